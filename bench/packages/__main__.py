"""``python -m bench.packages``."""

from bench.packages.run import main

main()
