"""Benchmarks: testbeds that score teachers without training a neural student.

- ``ToyStudent`` / ``run_toy`` / ``bench_toy`` — the toy grid of Portelas et al. 2019 (§4),
  also ``teachgym bench toy`` on the command line.
"""

from teachgym.bench.toy import (
    DEFAULT_TEACHERS,
    ToyBenchConfig,
    ToyRunResult,
    ToyStudent,
    bench_toy,
    run_toy,
    toy_checkpoints,
)

__all__ = [
    "DEFAULT_TEACHERS",
    "ToyBenchConfig",
    "ToyRunResult",
    "ToyStudent",
    "bench_toy",
    "run_toy",
    "toy_checkpoints",
]
