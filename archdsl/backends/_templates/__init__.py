"""Templates compiled by `python -m archdsl.backends.regenerate` (archdsl/backends/precompiled.py); do not edit."""
