"""Object store backends: ``local`` (embedded default) and ``s3``."""
