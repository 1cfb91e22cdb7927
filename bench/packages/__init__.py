"""Data packages benchmark (``python -m bench.packages``)."""
