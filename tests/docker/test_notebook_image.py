"""The notebook image: built without a registry, runs as jovyan, holds the promised tools."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from everest_elearn.images import HASH_LABEL, IMAGES, ImageBuilder, assemble_context, context_hash
from everest_elearn.settings import ImagesSettings
from tests.fixtures.images import images_settings

pytestmark = pytest.mark.docker

CHECK = (
    "import datacube, xarray, rasterio, odc.geo, odc.stac, dask, matplotlib, scipy, skimage, "
    "jupyterlab, jupyterhub, nbclient, papermill, psycopg2, everest_elearn.client as c; "
    "print(datacube.__version__, c.data_root())"
)


def test_notebook_image_contents(notebook_image) -> None:  # type: ignore[no-untyped-def]
    client = docker.from_env()
    try:
        out = client.containers.run(
            notebook_image.tag,
            [
                "sh",
                "-c",
                f'id -u; id -un; echo $HOME; python -c "{CHECK}"; command -v jupyterhub-singleuser',
            ],
            network_mode="none",
            remove=True,
        ).decode()
        image = client.images.get(notebook_image.tag)
    finally:
        client.close()
    uid, user, home, versions, singleuser = out.strip().splitlines()[-5:]
    assert (uid, user, home) == ("1000", "jovyan", "/home/jovyan")
    assert versions == "1.9.20 /home/jovyan/data"
    assert singleuser.endswith("/jupyterhub-singleuser")
    assert image.labels[HASH_LABEL] == notebook_image.context_hash
    assert image.attrs["Config"]["User"] == "1000"


def test_unchanged_inputs_skip_the_build(notebook_image) -> None:  # type: ignore[no-untyped-def]
    again = ImageBuilder(images_settings()).build_sync("notebook")
    assert again.built is False
    assert again.image_id == notebook_image.image_id


def test_context_hash_follows_inputs(tmp_path: Path) -> None:
    settings = ImagesSettings(extra_ca_file=None)
    a = assemble_context(IMAGES["notebook"], settings, tmp_path / "a")
    b = assemble_context(IMAGES["notebook"], settings, tmp_path / "b")
    assert context_hash(a, {"BASE_IMAGE": "x"}) == context_hash(b, {"BASE_IMAGE": "x"})
    assert context_hash(a, {"BASE_IMAGE": "x"}) != context_hash(a, {"BASE_IMAGE": "y"})
    (b / "requirements.txt").write_text((b / "requirements.txt").read_text() + "numpy\n")
    assert context_hash(a, {"BASE_IMAGE": "x"}) != context_hash(b, {"BASE_IMAGE": "x"})
    # The notebook context carries only the client helpers, not the agency's code.
    assert (a / "project/src/everest_elearn/client/__init__.py").is_file()
    assert not (a / "project/src/everest_elearn/packages").exists()
    assert (a / "extra-ca.crt").read_bytes() == b""
