"""The benchmark suite of issue #7: ``make bench`` (``python -m bench``); see docs/benchmarks.md."""
