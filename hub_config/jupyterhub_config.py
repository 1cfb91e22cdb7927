"""JupyterHub configuration: the project's settings decide everything (see everest_elearn.hub.config).

    jupyterhub -f hub_config/jupyterhub_config.py

Settings come from EVEREST_... environment variables and the optional EVEREST_CONFIG_FILE;
secrets (client secret, crypt key) from the environment or secret files, never from this folder
(nor from EVEREST_CONFIG_FILE, which refuses them).
"""

from everest_elearn.hub.config import configure
from everest_elearn.settings import load_settings

c = get_config()  # type: ignore[name-defined]  # noqa: F821
configure(c, load_settings())
