"""Benchmarks: each one prints its figures and ratios against a baseline run in the same process.

Run them with `make bench` (or `python -m bench [NAME ...] [--quick]`); see docs/BENCHMARKS.md.
"""
