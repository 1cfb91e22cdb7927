"""Data packages: specs, builds into volumes, manifests, ODC indexing, results sharing."""
