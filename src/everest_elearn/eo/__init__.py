"""EO algorithms used by the e-learning modules: small, typed, on numpy arrays and xarray."""
