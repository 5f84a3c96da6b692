"""Random-action steps/s: each batched grid family against its MiniGrid-based env in the same run.

The MiniGrid-based baseline is ``gymnasium.make_vec(id, num_envs=8, vectorization_mode="sync")``
(eight envs in one process), the batched env ``make_vec(id, num_envs=N,
vectorization_mode="vector_entry_point")`` with the torch interface on CPU. Both play uniformly
random actions and reset finished episodes as part of the timed loop, with every episode at the
same params (the family's centre or hardest corner). Torch runs on ``--threads`` threads.

    python benchmarks/bench_batched_vs_minigrid.py            # writes benchmarks/results/...json
    python benchmarks/bench_batched_vs_minigrid.py --num-envs 1024 --families GridNavigation
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import date
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs import env_factory

PRESETS: dict[str, dict[str, dict[str, float]]] = {
    "GridNavigation": {
        "centre": {
            "room_size": 10,
            "goal_distance": 0.5,
            "wall_density": 0.25,
            "lava_density": 0.3,
        },
        "hardest": {
            "room_size": 15,
            "goal_distance": 1.0,
            "wall_density": 0.5,
            "lava_density": 0.6,
        },
    },
    "GridKeyDoor": {
        "centre": {"num_locked_rooms": 2, "key_distance": 0.625, "num_distractors": 3},
        "hardest": {"num_locked_rooms": 4, "key_distance": 0.99, "num_distractors": 6},
    },
    "NoisyRooms": {
        "centre": {"num_rooms": 3.5, "room_size": 7, "noisy_fraction": 0.5, "noise_prob": 0.5},
        "hardest": {"num_rooms": 6, "room_size": 10, "noisy_fraction": 1.0, "noise_prob": 1.0},
    },
    "NoisyTVRooms": {
        "centre": {"num_rooms": 3.5, "room_size": 7, "num_tvs": 1.5},
        "hardest": {"num_rooms": 6, "room_size": 10, "num_tvs": 3},
    },
}


def minigrid_rate(env_id: str, params: dict[str, float], steps: int) -> float:
    """Steps/s of 8 MiniGrid-based envs in a SyncVectorEnv, each episode at ``params``."""
    vec = gym.vector.SyncVectorEnv(
        [env_factory(env_id, obs="none", params=params) for _ in range(8)]
    )
    vec.reset(seed=0)
    vec.action_space.seed(0)
    actions = [vec.action_space.sample() for _ in range(steps)]
    start = time.perf_counter()
    for action in actions:
        vec.step(action)
    rate = 8 * steps / (time.perf_counter() - start)
    vec.close()
    return rate


def batched_rate(env_id: str, params: dict[str, float], num_envs: int, steps: int) -> float:
    """Steps/s of the batched env with ``num_envs`` sub-envs, each episode at ``params``."""
    env: Any = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", device="cpu", seed=0
    )
    row = env.param_space.to_vector(params)
    every = list(range(num_envs))
    env.set_next_params(every, np.repeat(row[None], num_envs, axis=0))
    env.reset(seed=0)
    generator = torch.Generator().manual_seed(0)
    actions = torch.randint(0, 7, (steps + 5, num_envs), generator=generator)
    for t in range(5):  # warm-up
        env.pending_params.copy_(env.params)
        env.has_pending.fill_(True)
        env.step(actions[t])
    start = time.perf_counter()
    for t in range(5, steps + 5):
        env.pending_params.copy_(env.params)  # keep every next episode at these params
        env.has_pending.fill_(True)
        env.step(actions[t])
    return num_envs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS))
    parser.add_argument("--num-envs", type=int, nargs="+", default=[256, 1024, 4096, 16384])
    parser.add_argument("--steps", type=int, default=100, help="batched steps per timing")
    parser.add_argument("--minigrid-steps", type=int, default=1000, help="baseline vector steps")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/batched_vs_minigrid.json")
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for family in args.families:
        env_id = f"teachgym/{family}-v0"
        for preset, params in PRESETS[family].items():
            base = minigrid_rate(env_id, params, args.minigrid_steps)
            for num_envs in args.num_envs:
                rate = batched_rate(env_id, params, num_envs, args.steps)
                rows.append(
                    {
                        "family": family,
                        "params": preset,
                        "num_envs": num_envs,
                        "batched_steps_per_s": round(rate),
                        "minigrid_sync8_steps_per_s": round(base),
                        "speedup": round(rate / base, 1),
                    }
                )
                print(
                    f"{family:<15} {preset:<8} num_envs {num_envs:>6}  batched {rate:>11,.0f}/s"
                    f"  MiniGrid sync×8 {base:>8,.0f}/s  ×{rate / base:,.1f}",
                    flush=True,
                )
    result = {
        "command": "python benchmarks/bench_batched_vs_minigrid.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} torch thread(s)",
        "date": date.today().isoformat(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
