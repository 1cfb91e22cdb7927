"""The JupyterHub edge: the spawner, single sign-on, ``configure(c, settings)``."""
