"""Random-action steps/s of the batched grid envs (resets included), per family and ``num_envs``.

Usage: ``python benchmarks/bench_batched_envs.py [--family navigation key_door]
[--num-envs 1024 4096] [--steps 200] [--device cpu]``. Not a test; the figures go to
BENCHMARKS.md once issue 13 lands.
"""

from __future__ import annotations

import argparse
import time

import torch

from teachgym.envs.batched import BatchedGridEnv, BatchedGridKeyDoor, BatchedGridNavigation
from teachgym.envs.batched.noisy_rooms import BatchedNoisyRooms
from teachgym.envs.batched.noisy_tv import BatchedNoisyTVRooms

FAMILIES: dict[str, tuple[type[BatchedGridEnv], dict[str, list[float]]]] = {
    "navigation": (
        BatchedGridNavigation,
        {"centre": [10.0, 0.5, 0.25, 0.3], "hardest": [15.0, 1.0, 0.5, 0.6]},
    ),
    "key_door": (
        BatchedGridKeyDoor,
        {"centre": [2.0, 0.625, 3.0], "hardest": [4.0, 0.99, 6.0]},
    ),
    "noisy_rooms": (BatchedNoisyRooms, {"centre": [3.5, 7.0, 0.5, 0.5], "hardest": [6, 10, 1, 1]}),
    "noisy_tv": (BatchedNoisyTVRooms, {"centre": [3.5, 7.0, 1.5], "hardest": [6.0, 10.0, 3.0]}),
}


def bench(
    family: type[BatchedGridEnv],
    num_envs: int,
    steps: int,
    device: str,
    params: list[float] | None,
) -> float:
    env = family(num_envs, device=device, seed=0)
    generator = torch.Generator(device=device).manual_seed(0)
    if params is not None:
        env.set_next_params(range(num_envs), [params] * num_envs)
    env.reset()
    actions = torch.randint(0, 7, (steps, num_envs), device=device, generator=generator)
    for t in range(5):  # warm-up
        env.step(actions[t])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for t in range(steps):
        if params is not None:
            env.pending_params.copy_(env.params)  # keep every episode at these params
            env.has_pending.fill_(True)
        env.step(actions[t])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return num_envs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", nargs="+", choices=sorted(FAMILIES), default=sorted(FAMILIES))
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (on a busy 2-core machine, 2 threads run ~20x slower)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    for family_name in args.family:
        family, presets = FAMILIES[family_name]
        for num_envs in args.num_envs:
            for name, params in [("uniform", None), *presets.items()]:
                rate = bench(family, num_envs, args.steps, args.device, params)
                print(
                    f"{family_name:<10} num_envs {num_envs:>6}  params {name:<8} "
                    f"{rate:>12,.0f} steps/s"
                )


if __name__ == "__main__":
    main()
