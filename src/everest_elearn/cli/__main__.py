"""``python -m everest_elearn.cli``."""

from everest_elearn.cli import main

main()
