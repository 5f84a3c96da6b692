"""Bytes of state per env of each batched grid family (issue 13's "memory per env" figure).

Usage: ``python benchmarks/bench_batched_memory.py [--num-envs 4096]``. Not a test; the figures go
to BENCHMARKS.md.

The state of a batched env is every public tensor attribute whose first dimension is ``num_envs``
(the grid, agent position and direction, carried object, step counters, params, pending slot):
per env, the sum of ``element_size() * numel() / num_envs`` over them. Tables shared by all envs
(view indices, the visibility table, bounds) are reported apart: they do not grow with
``num_envs``. Transient tensors of a step (observations, masks) are not state and are not counted.
"""

from __future__ import annotations

import argparse

import torch

import teachgym.envs.batched as batched
from teachgym.envs.batched import BatchedGridEnv


def families() -> list[type[BatchedGridEnv]]:
    """Every batched family the package exports (so new families are measured too)."""
    found = []
    for name in batched.__all__:
        value = getattr(batched, name)
        is_family = isinstance(value, type) and issubclass(value, BatchedGridEnv)
        if is_family and value is not BatchedGridEnv:
            found.append(value)
    return found


def state_bytes(env: BatchedGridEnv) -> tuple[dict[str, float], int]:
    """Per-env bytes of each state tensor, and the bytes of the tables shared by all envs."""
    per_env: dict[str, float] = {}
    shared = 0
    for name, value in vars(env).items():
        if not isinstance(value, torch.Tensor):
            continue
        size = value.element_size() * value.numel()
        # Shared tables are protected (``_low``, ``_view_index`` …), whatever their shape.
        if not name.startswith("_") and value.dim() >= 1 and value.shape[0] == env.num_envs:
            per_env[name] = size / env.num_envs
        else:
            shared += size
    return per_env, shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=4096)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for family in families():
        env = family(args.num_envs, seed=0)
        env.reset()
        per_env, shared = state_bytes(env)
        parts = ", ".join(f"{name} {size:g}" for name, size in per_env.items())
        print(
            f"{family.__name__}: {sum(per_env.values()):g} bytes of state per env "
            f"({parts}); shared tables {shared / 1024:.1f} KiB"
        )


if __name__ == "__main__":
    main()
