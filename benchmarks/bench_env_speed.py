"""Random-action steps/s of each teachgym env against its closest stock Gymnasium/MiniGrid env.

The target: each parameterized env within 5% of its base env. Each pair is timed in
alternation (ours, base, ours, base, …) so that drift of the machine hits both alike, and the
median over repeats is reported. Resets are part of the measured loop, as in training.

    python benchmarks/bench_env_speed.py                       # all pairs, writes the JSON
    python benchmarks/bench_env_speed.py --steps 5000 --repeats 3 --only StumpTracks
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid-* ids)
import numpy as np

import teachgym  # noqa: F401  (registers teachgym/* ids)


@dataclass(frozen=True)
class Pair:
    """One of our envs (fixed params) against the stock env it builds on or resembles."""

    name: str
    ours: str
    base: str
    params: dict[str, float] = field(default_factory=dict)
    ours_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""


PAIRS = [
    Pair(
        "StumpTracks flat",
        "teachgym/StumpTracks-v0",
        "BipedalWalker-v3",
        {"stump_height": 0.0, "obstacle_spacing": 3.0},
        note="default walker; flat track vs the base env's gently uneven grass",
    ),
    Pair(
        "StumpTracks stumps",
        "teachgym/StumpTracks-v0",
        "BipedalWalker-v3",
        {"stump_height": 1.5, "obstacle_spacing": 3.0},
        note="default walker; centre of the space",
    ),
    Pair(
        "StumpTracks short",
        "teachgym/StumpTracks-v0",
        "BipedalWalker-v3",
        {"stump_height": 1.5, "obstacle_spacing": 3.0},
        {"walker": "short"},
        note="short walker; centre of the space",
    ),
    Pair(
        "HexagonTracks default walker",
        "teachgym/HexagonTracks-v0",
        "BipedalWalker-v3",
        {},
        {"walker": "default"},
        note="params at the centre of [0, 4]^12",
    ),
    Pair(
        "HexagonTracks quadruped",
        "teachgym/HexagonTracks-v0",
        "BipedalWalker-v3",
        {},
        note="quadruped (its default): twice the legs, so not expected to match",
    ),
    Pair(
        "GridNavigation centre",
        "teachgym/GridNavigation-v0",
        "MiniGrid-LavaCrossingS9N1-v0",
        {"room_size": 10, "goal_distance": 0.5, "wall_density": 0.25, "lava_density": 0.3},
    ),
    Pair(
        "GridNavigation lava gap",
        "teachgym/GridNavigation-v0",
        "MiniGrid-LavaGapS7-v0",
        {"room_size": 7, "goal_distance": 1.0, "wall_density": 0.0, "lava_density": 0.3},
    ),
    Pair(
        "GridNavigation empty",
        "teachgym/GridNavigation-v0",
        "MiniGrid-Empty-16x16-v0",
        {"room_size": 15, "goal_distance": 1.0, "wall_density": 0.0, "lava_density": 0.0},
        {"see_through_walls": True},
        note="MiniGrid-Empty hard-codes see_through_walls=True",
    ),
    Pair(
        "GridKeyDoor one door",
        "teachgym/GridKeyDoor-v0",
        "MiniGrid-DoorKey-8x8-v0",
        {"num_locked_rooms": 1, "key_distance": 0.0, "num_distractors": 0},
    ),
    Pair(
        "GridKeyDoor centre",
        "teachgym/GridKeyDoor-v0",
        "MiniGrid-KeyCorridorS3R3-v0",
        {"num_locked_rooms": 2, "key_distance": 0.625, "num_distractors": 3},
    ),
    Pair(
        "NoisyRooms no noise",
        "teachgym/NoisyRooms-v0",
        "MiniGrid-MultiRoom-N6-v0",
        {"num_rooms": 6, "room_size": 7, "noisy_fraction": 0.0, "noise_prob": 0.0},
    ),
    Pair(
        "NoisyRooms centre",
        "teachgym/NoisyRooms-v0",
        "MiniGrid-MultiRoom-N6-v0",
        {"num_rooms": 3.5, "room_size": 7, "noisy_fraction": 0.5, "noise_prob": 0.5},
    ),
    Pair(
        "NoisyRooms worst",
        "teachgym/NoisyRooms-v0",
        "MiniGrid-MultiRoom-N6-v0",
        {"num_rooms": 6, "room_size": 10, "noisy_fraction": 1.0, "noise_prob": 1.0},
        note="every floor tile of six 10x10 rooms flickers every step",
    ),
    Pair(
        "NoisyTVRooms centre",
        "teachgym/NoisyTVRooms-v0",
        "MiniGrid-MultiRoom-N6-v0",
        {"num_rooms": 3.5, "room_size": 7, "num_tvs": 1.5},
    ),
]


def _steps_per_second(
    env_id: str,
    steps: int,
    seed: int,
    params: dict[str, float] | None,
    kwargs: dict[str, Any],
    int_actions: bool = False,
) -> tuple[float, int]:
    """Steps per second, and how many episodes ended during the timed steps."""
    env = gym.make(env_id, **kwargs)
    space = getattr(env.unwrapped, "param_space", None)
    options = None
    if space is not None:
        centre = space.to_dict(space.denormalize(np.full(space.dim, 0.5)))
        centre.update(params or {})
        options = {"params": centre}
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    if int_actions:
        # Like for like: teachgym's grid envs turn numpy ints into ints before MiniGrid's step,
        # which is slow on numpy ints; giving both envs ints isolates everything else.
        actions = [int(action) for action in actions]
    env.reset(seed=seed, options=options)
    episodes = 0
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset(options=options)
            episodes += 1
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed, episodes


def bench_pair(pair: Pair, steps: int, repeats: int, int_actions: bool) -> dict[str, Any]:
    ours, base = [], []
    ours_episodes = base_episodes = 0
    for repeat in range(repeats):
        rate, episodes = _steps_per_second(
            pair.ours, steps, repeat, pair.params, pair.ours_kwargs, int_actions
        )
        ours.append(rate)
        ours_episodes += episodes
        rate, episodes = _steps_per_second(pair.base, steps, repeat, None, {}, int_actions)
        base.append(rate)
        base_episodes += episodes
    ours_median, base_median = statistics.median(ours), statistics.median(base)
    return {
        "name": pair.name,
        "ours": pair.ours,
        "ours_kwargs": pair.ours_kwargs,
        "params": pair.params,
        "base": pair.base,
        "note": pair.note,
        "ours_steps_per_s": ours_median,
        "base_steps_per_s": base_median,
        "ratio": ours_median / base_median,
        # Resets are inside the timed loop, so shorter episodes cost more per step.
        "ours_steps_per_episode": steps * repeats / max(ours_episodes, 1),
        "base_steps_per_episode": steps * repeats / max(base_episodes, 1),
        "ours_runs": ours,
        "base_runs": base,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs per env")
    parser.add_argument("--only", nargs="*", help="substrings of pair names to run")
    parser.add_argument(
        "--int-actions",
        action="store_true",
        help="give discrete envs Python ints instead of the numpy ints action_space.sample() "
        "returns (like-for-like for MiniGrid, whose step is slow on numpy ints)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/env_speed.json"), help="JSON output"
    )
    args = parser.parse_args()
    pairs = [p for p in PAIRS if not args.only or any(s in p.name for s in args.only)]
    results = []
    for pair in pairs:
        row = bench_pair(pair, args.steps, args.repeats, args.int_actions)
        results.append(row)
        print(
            f"{row['name']:<34} {row['ours_steps_per_s']:>9.0f} steps/s  vs {row['base']:<28} "
            f"{row['base_steps_per_s']:>9.0f} steps/s  ratio {row['ratio']:.3f}  "
            f"steps/episode {row['ours_steps_per_episode']:.0f} vs "
            f"{row['base_steps_per_episode']:.0f}",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/bench_env_speed.py "
                f"--steps {args.steps} --repeats {args.repeats}"
                + (f" --only {' '.join(args.only)}" if args.only else "")
                + (" --int-actions" if args.int_actions else "")
                + f" --out {args.out}",
                "machine": f"{platform.processor() or platform.machine()}, "
                f"{platform.python_version()}",
                "date": time.strftime("%Y-%m-%d"),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
