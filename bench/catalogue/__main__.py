"""``python -m bench.catalogue``."""

from bench.catalogue.run import main

main()
