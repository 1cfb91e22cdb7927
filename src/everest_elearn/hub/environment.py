"""What a user's server is told: platform roles from hub groups, and the notebook's variables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from everest_elearn.hub.spawner import EverestSpawner

ROLE_GROUP_PREFIX = "role-"


def user_roles(user: Any) -> set[str]:
    """Platform roles of a hub user: its role-<name> groups, and administrator for hub admins."""
    roles = {
        g.name[len(ROLE_GROUP_PREFIX) :]
        for g in user.groups
        if g.name.startswith(ROLE_GROUP_PREFIX)
    }
    if user.admin:
        roles.add("administrator")
    return roles


def everest_env(spawner: EverestSpawner) -> dict[str, str]:
    """Where data and results are, the ODC's read-only role, the agency and the chosen course."""
    env = {"EVEREST_DATA_ROOT": spawner.packages_path, "EVEREST_RESULTS": spawner.results_path}
    if spawner.odc_db_url:
        env["ODC_DEFAULT_DB_URL"] = spawner.odc_db_url
        env["ODC_DEFAULT_INDEX_DRIVER"] = spawner.odc_index_driver
    if spawner.agency_url:
        env["EVEREST_AGENCY_URL"] = spawner.agency_url
    if spawner.provider_token:
        env["EVEREST_PROVIDER_TOKEN"] = spawner.provider_token
    if spawner._plan is not None and spawner._plan.course:
        env["EVEREST_COURSE"] = spawner._plan.course
    return env
