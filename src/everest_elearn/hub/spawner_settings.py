"""The settings of EverestSpawner (set as c.EverestSpawner.<name> in the hub's config)."""

from __future__ import annotations

from traitlets import Bool, Dict, Float, HasTraits, Int, Unicode


class SpawnerSettings(HasTraits):
    """EverestSpawner's own traits, beside DockerSpawner's (a mixin: it configures as the spawner)."""

    courses_db = Unicode(
        "",
        config=True,
        help="SQLite file of the courses service: which courses, packages and modules a user has.",
    )
    packages_db = Unicode(
        "",
        config=True,
        help="SQLite registry of the packages service; shares granted to the user are read from it.",
    )
    modules_dir = Unicode(
        "",
        config=True,
        help="Folder of bare git repositories (<module>.git) that course modules are pinned in.",
    )
    package_volume_template = Unicode(
        "everest-pkg-{name}-{version}",
        config=True,
        help="Docker volume holding a data package, formatted with the package's name and version.",
    )
    packages_path = Unicode(
        "/home/jovyan/data",
        config=True,
        help="Each package of the user's courses is mounted read-only at <packages_path>/<name>.",
    )
    home_volume_template = Unicode(
        "everest-home-{username}",
        config=True,
        help="The user's home volume (keeps notebooks and edits across servers); empty = no volume.",
    )
    results_volume_template = Unicode(
        "everest-results-{username}",
        config=True,
        help="The user's results volume, mounted read-write at results_path; {username} is the "
        "escaped user name, {slug} the packages service's name for the user.",
    )
    results_path = Unicode(
        "/home/jovyan/results", config=True, help="Where the results volume is mounted."
    )
    shared_path = Unicode(
        "/home/jovyan/shared",
        config=True,
        help="Results other users shared with this user appear read-only at <shared_path>/<name>.",
    )
    modules_path = Unicode(
        "/home/jovyan/courses",
        config=True,
        help="Course modules are brought into <modules_path>/<course>/<module>.",
    )
    odc_db_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Open Data Cube database URL with a read-only role, given to notebooks as ODC_DEFAULT_DB_URL.",
    )
    odc_index_driver = Unicode(
        "postgres", config=True, help="ODC_DEFAULT_INDEX_DRIVER in containers."
    )
    agency_url = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Data Agency URL given to notebooks (EVEREST_AGENCY_URL).",
    )
    pass_provider_token = Bool(
        True,
        config=True,
        help="Give the server the provider's access token from the user's auth_state "
        "(EVEREST_PROVIDER_TOKEN), so notebooks can call the agency as the user with it.",
    )
    user_uid = Int(1000, config=True, help="uid the notebook server runs as (jovyan).")
    user_gid = Int(
        1000, config=True, help="gid owning the user's writable volumes (jovyan's group)."
    )
    role_limits = Dict(
        config=True,
        help="Per platform role: {'module-developer': {'image': ..., 'mem_limit': '8G', 'cpu_limit': 4}}. "
        "A course's own image and limits win over these.",
    )
    spawn_slots = Int(
        20,
        config=True,
        help="Containers started at once; later spawns wait their turn and are told their queue position.",
    )
    sync_modules = Bool(
        True, config=True, help="Bring the course modules into the home at each spawn."
    )
    hub_instance = Unicode(
        "",
        config=True,
        help="This hub among hubs sharing one Docker engine (lowercase letters, digits, '-'). "
        "Container names start with everest-<hub_instance>- (DockerSpawner's prefix), so one "
        "hub never stops, removes or adopts another's containers.",
    )
    ready_poll_interval = Float(
        0.2,
        config=True,
        help="Seconds between checks whether JupyterLab answers. JupyterHub's own wait backs off "
        "up to 5 s between checks, which alone can add seconds to a spawn.",
    )
