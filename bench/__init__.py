"""`make bench`: the product measured against honest baselines, in one run (see docs/bench.md)."""
