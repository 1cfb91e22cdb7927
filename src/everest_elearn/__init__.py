"""everest-elearn: an open platform on which Earth Observation courses run."""

__version__ = "0.1.0"
