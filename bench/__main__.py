"""`python -m bench` (make bench): the benchmark suite's entry point (bench/run.py)."""

from bench.run import main

main()
