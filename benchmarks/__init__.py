"""Benchmarks of zedo-xr; run with ``nox -s bench`` (see benchmarks/run.py)."""
