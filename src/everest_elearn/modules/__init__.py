"""Course modules: a git-backed module repository and a sync that never destroys a participant's edits."""
