"""Return and distance of a random and a scripted policy against stump height.

Stump Tracks must show its structure: with ``stump_height`` 0 the track is flat and walkable,
higher stumps are harder, and the short walker (hips at most 2.4 terrain steps off the ground)
cannot get past stumps near 3 steps at all. This script measures, per walker, policy and mean
stump height (at a fixed obstacle spacing), the mean episode return and the distance the hull
travelled, over seeded episodes of ``teachgym/StumpTracks-v0`` (2,000-step limit).

Policies: ``random`` draws uniform actions from the env's seeded action space. ``scripted`` is
an obstacle-blind controller that walks on flat ground: Gymnasium's ``BipedalWalkerHeuristics``
for the default walker, and ``WalkerGait`` (``walker_gait.py`` beside this script, an
oscillator gait tuned on the flat track) for the short walker, which the heuristic makes fall
within ~85 steps.

    python benchmarks/bench_walker_structure.py                            # writes the JSON
    python benchmarks/bench_walker_structure.py --episodes 4 --heights 0 3 --walker short
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.box2d.bipedal_walker import BipedalWalkerHeuristics
from walker_gait import WalkerGait  # beside this script, whose folder Python puts on the path

import teachgym  # noqa: F401  (registers teachgym/* ids)
from teachgym.envs.walkers.geometry import FIRST_OBSTACLE_X, TERRAIN_STEP

POLICIES = ("random", "scripted")


SCRIPTED = {"default": "gymnasium BipedalWalkerHeuristics", "short": "teachgym WalkerGait"}


def scripted_policy(walker: str) -> Callable[[np.ndarray], np.ndarray]:
    """A fresh scripted controller (observation → action) for one episode."""
    if walker == "default":
        return BipedalWalkerHeuristics().step_heuristic  # its state lives on the instance
    return WalkerGait.for_walker(walker)


def run_episode(
    walker: str, policy: str, height: float, spacing: float, seed: int
) -> dict[str, Any]:
    """One episode; returns its return, distance, length and how it ended."""
    env = gym.make("teachgym/StumpTracks-v0", walker=walker)
    params = {"stump_height": height, "obstacle_spacing": spacing}
    obs, _ = env.reset(seed=seed, options={"params": params})
    base = env.unwrapped
    start_x = base.hull.position[0]
    env.action_space.seed(seed)
    gait = scripted_policy(walker) if policy == "scripted" else None
    episode_return, steps = 0.0, 0
    terminated = truncated = False
    while not (terminated or truncated):
        action = env.action_space.sample() if gait is None else gait(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        episode_return += float(reward)
        steps += 1
    end_x = base.hull.position[0]
    stumps_passed = sum(
        1 for polygon in base.obstacle_polygons if max(x for x, _ in polygon) < end_x
    )
    env.close()
    return {
        "return": episode_return,
        "distance": end_x - start_x,
        "steps": steps,
        "fell": bool(base.game_over),
        "finished": bool(terminated and not base.game_over and end_x > start_x),
        "stumps_passed": stumps_passed,
    }


def run_cell(job: tuple[str, str, float, float, list[int]]) -> dict[str, Any]:
    """All episodes of one (walker, policy, height) cell, summarised."""
    walker, policy, height, spacing, seeds = job
    episodes = [run_episode(walker, policy, height, spacing, seed) for seed in seeds]
    returns = [e["return"] for e in episodes]
    distances = [e["distance"] for e in episodes]
    return {
        "walker": walker,
        "policy": policy,
        "stump_height": height,
        "obstacle_spacing": spacing,
        "episodes": len(episodes),
        "mean_return": statistics.fmean(returns),
        "std_return": statistics.pstdev(returns),
        "mean_distance": statistics.fmean(distances),
        "max_distance": max(distances),
        "mean_stumps_passed": statistics.fmean(e["stumps_passed"] for e in episodes),
        "fell_fraction": statistics.fmean(e["fell"] for e in episodes),
        "finished_fraction": statistics.fmean(e["finished"] for e in episodes),
        "mean_steps": statistics.fmean(e["steps"] for e in episodes),
        "runs": episodes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10, help="seeded episodes per cell")
    parser.add_argument(
        "--heights",
        type=float,
        nargs="+",
        default=[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
        help="mean stump heights (terrain steps)",
    )
    parser.add_argument("--spacing", type=float, default=3.0, help="obstacle_spacing (units)")
    parser.add_argument(
        "--walker", nargs="+", default=["short", "default"], choices=["short", "default"]
    )
    parser.add_argument("--policy", nargs="+", default=list(POLICIES), choices=POLICIES)
    parser.add_argument(
        "--seed", type=int, default=100, help="first episode seed (the gait was tuned on 0-2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/walker_structure.json"),
        help="JSON output",
    )
    args = parser.parse_args()

    seeds = list(range(args.seed, args.seed + args.episodes))
    jobs = [
        (walker, policy, height, args.spacing, seeds)
        for walker, policy, height in itertools.product(args.walker, args.policy, args.heights)
    ]
    started = time.perf_counter()
    with Pool(args.workers) as pool:
        cells = pool.map(run_cell, jobs, chunksize=1)
    elapsed = time.perf_counter() - started

    print(f"obstacle_spacing {args.spacing}, {args.episodes} episodes per cell, {elapsed:.0f} s")
    print(
        f"{'walker':<8} {'policy':<9} {'height':>6} {'return':>16} {'distance':>9} "
        f"{'stumps':>7} {'fell':>5}"
    )
    for cell in cells:
        print(
            f"{cell['walker']:<8} {cell['policy']:<9} {cell['stump_height']:>6.1f} "
            f"{cell['mean_return']:>8.1f} ± {cell['std_return']:<5.1f} "
            f"{cell['mean_distance']:>9.1f} {cell['mean_stumps_passed']:>7.1f} "
            f"{cell['fell_fraction']:>5.2f}"
        )
    command = (
        "python benchmarks/bench_walker_structure.py "
        f"--episodes {args.episodes} --heights {' '.join(f'{h:g}' for h in args.heights)} "
        f"--spacing {args.spacing:g} --walker {' '.join(args.walker)} "
        f"--policy {' '.join(args.policy)} --seed {args.seed} --workers {args.workers}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": command,
                "machine": f"{platform.processor() or platform.machine()}, "
                f"Python {platform.python_version()}",
                "date": time.strftime("%Y-%m-%d"),
                "seconds": elapsed,
                "scripted_policy": {walker: SCRIPTED[walker] for walker in args.walker},
                "units": {
                    "stump_height": f"terrain steps ({TERRAIN_STEP:.4f} world units)",
                    "distance": "world units travelled by the hull (first stump at "
                    f"{FIRST_OBSTACLE_X / 2:.2f} from the start)",
                },
                "cells": cells,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
