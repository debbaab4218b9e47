"""archdsl's benchmarks: ``python -m bench`` (``--quick`` for a smoke run). Each section sets the
compiler beside what a user would otherwise run, in one run, as ratios of medians."""
