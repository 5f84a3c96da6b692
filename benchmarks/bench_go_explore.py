"""Go-Explore benchmarks: phase 1 first success, phase 1 speed, phase 2 vs plain PPO.

Steps are env steps executed. Each subcommand writes one JSON under ``benchmarks/results/``.

    # Phase 1: env steps to the first success, per seed (stops at the first success).
    python benchmarks/bench_go_explore.py phase1 --env MiniGrid-DoorKey-16x16-v0 \\
        --budget 200000 --seeds 0 1 2 3 4 --repeat-prob 0.0 --workers 2
    # Montezuma's Revenge: full budget; first key, best score, rooms.
    python benchmarks/bench_go_explore.py phase1 --env ALE/MontezumaRevenge-v5 \\
        --cell montezuma --budget 1000000 --seeds 0 1 2 3 4 --no-stop --workers 2
    # Speed: phase 1 against the raw env stepped with the same action process.
    python benchmarks/bench_go_explore.py speed --env MiniGrid-DoorKey-16x16-v0 --steps 50000
    # Phase 2: backward-algorithm PPO from the phase-1 demo, and plain PPO, same network.
    python benchmarks/bench_go_explore.py phase2 --env MiniGrid-KeyCorridorS3R3-v0 \\
        --seeds 0 1 2 3 4 --budget 2000000 --plain-budget 500000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import date
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.agents.go_explore import GoExplore, make_cell_fn, make_go_explore_env

RESULTS = Path(__file__).parent / "results"


def _name(env_id: str) -> str:
    return env_id.replace("/", "_").replace("-v0", "").replace("-v5", "")


def _agent(args: argparse.Namespace, seed: int) -> GoExplore:
    return GoExplore(
        args.env,
        cell_fn=make_cell_fn(args.cell),
        seed=seed,
        repeat_action_prob=args.repeat_prob,
        selection=args.selection,
        device="cpu",
    )


class _Milestones:
    """Per-exploration callback: stops at the first success (unless ``stop`` is off) and, for
    Montezuma cells, records when a cell holding a key first entered the archive."""

    def __init__(self, stop: bool, track_keys: bool) -> None:
        self.stop, self.track_keys = stop, track_keys
        self.first_key_step: int | None = None
        self._checked = 0

    def __call__(self, agent: GoExplore) -> bool:
        if self.track_keys and self.first_key_step is None:
            keys = agent.archive.keys
            if any(key[2] > 0 for key in keys[self._checked :]):  # (level, room, keys, x, y)
                self.first_key_step = agent.stats.num_timesteps
            self._checked = len(keys)
        return not (self.stop and agent.stats.first_success_step is not None)


def run_phase1(job: tuple[argparse.Namespace, int]) -> dict[str, Any]:
    args, seed = job
    agent = _agent(args, seed)
    milestones = _Milestones(stop=not args.no_stop, track_keys=args.cell == "montezuma")
    start = time.perf_counter()
    agent.explore(args.budget, callback=milestones)
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {
        "seed": seed,
        "first_success_step": agent.stats.first_success_step,
        "num_timesteps": agent.stats.num_timesteps,
        "num_timesteps_from_reset": agent.stats.num_timesteps_from_reset,
        "cells": len(agent.archive),
        "best_score": agent.best_score,
        "seconds": round(seconds, 1),
        "steps_per_second": round(agent.stats.num_timesteps / seconds),
        "history": agent.stats.history,
    }
    if args.cell == "montezuma":
        row["first_key_step"] = milestones.first_key_step
        row["rooms"] = len({(key[0], key[1]) for key in agent.archive.keys})
    if args.save_dir:
        agent.save(Path(args.save_dir) / f"{_name(args.env)}_seed{seed}")
    return row


def phase1(args: argparse.Namespace) -> dict[str, Any]:
    with Pool(args.workers) as pool:
        rows = pool.map(run_phase1, [(args, s) for s in args.seeds], chunksize=1)
    firsts = [r["first_success_step"] for r in rows]
    solved = [f for f in firsts if f is not None]
    summary: dict[str, Any] = {
        "solved": f"{len(solved)}/{len(rows)}",
        "median_first_success_step": statistics.median(solved) if solved else None,
        "max_first_success_step": max(solved) if solved else None,
    }
    if args.cell == "montezuma":
        keys = [r["first_key_step"] for r in rows]
        summary["first_key"] = f"{sum(k is not None for k in keys)}/{len(rows)}"
        summary["best_scores"] = [r["best_score"] for r in rows]
        summary["rooms"] = [r["rooms"] for r in rows]
    return {"summary": summary, "runs": rows}


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Alternate timed runs of the raw env and of phase 1 over the same number of steps; the
    raw env takes the same actions process (repeat with ``repeat_prob``) and resets when an
    episode ends, where phase 1 restores a cell instead. Phase 1 visits other states than a
    random walk from reset (which may cost more or less to step), so the share of phase 1's
    time spent inside ``env.step`` is reported too: one minus it is the bookkeeping."""
    raw_rates: list[float] = []
    explore_rates: list[float] = []
    step_shares: list[float] = []
    archive_rates: list[float] = []
    for repeat in range(args.repeats):
        env = make_go_explore_env(args.env)
        rng = np.random.default_rng(repeat)
        env.reset(seed=repeat)
        n = int(env.action_space.n)  # type: ignore[attr-defined]
        repeats = rng.random(args.steps) < args.repeat_prob
        actions = rng.integers(n, size=args.steps)
        previous = 0
        start = time.perf_counter()
        for step in range(args.steps):
            previous = previous if repeats[step] else int(actions[step])
            _, _, terminated, truncated, _ = env.step(previous)
            if terminated or truncated:
                env.reset()
        raw_rates.append(args.steps / (time.perf_counter() - start))
        agent = _agent(args, repeat)
        agent.explore(args.warmup)  # fill the archive first: measure the steady state
        in_step = _time_steps(agent)
        start = time.perf_counter()
        agent.explore(args.steps)
        seconds = time.perf_counter() - start
        explore_rates.append(args.steps / seconds)
        step_shares.append(in_step[0] / seconds)
        archive_rates.append(_walks_from_archive(agent, args.steps, rng))
    raw, explore = statistics.median(raw_rates), statistics.median(explore_rates)
    return {
        "raw_steps_per_second": round(raw),
        "phase1_steps_per_second": round(explore),
        "ratio": round(explore / raw, 3),
        "phase1_share_in_env_step": round(statistics.median(step_shares), 3),
        "archive_walk_steps_per_second": round(statistics.median(archive_rates)),
        "raw_runs": [round(r) for r in raw_rates],
        "phase1_runs": [round(r) for r in explore_rates],
        "share_runs": [round(r, 3) for r in step_shares],
        "archive_walk_runs": [round(r) for r in archive_rates],
    }


def _walks_from_archive(agent: GoExplore, steps: int, rng: np.random.Generator) -> float:
    """Steps/s of random walks (same action process, same 100-step length) started from the
    archive's cells, timing ``env.step`` only: the raw env's speed in the states phase 1 visits."""
    archive, env = agent.archive, agent.env
    n = int(env.action_space.n)  # type: ignore[attr-defined]
    seconds, done_steps = 0.0, 0
    while done_steps < steps:
        slot = int(rng.integers(len(archive)))
        if archive.terminal[slot] or archive.snapshots[slot] is None:
            continue
        env.restore_state(archive.snapshots[slot][0])  # type: ignore[attr-defined]
        actions = rng.integers(n, size=agent.explore_steps).tolist()
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            done_steps += 1
            if terminated or truncated:
                break
        seconds += time.perf_counter() - start
    return done_steps / seconds


def _time_steps(agent: GoExplore) -> list[float]:
    """Accumulate the seconds phase 1 spends inside ``env.step``: the rest of its time is
    returning (restores), snapshots, cells and archive bookkeeping."""
    total = [0.0]
    step = agent.env.step

    def timed_step(action: Any) -> Any:
        start = time.perf_counter()
        result = step(action)
        total[0] += time.perf_counter() - start
        return result

    agent.env.step = timed_step  # type: ignore[method-assign]
    return total


def run_phase2(job: tuple[argparse.Namespace, int, bool]) -> dict[str, Any]:
    import torch

    args, seed, backward = job
    torch.set_num_threads(1)  # one small MLP per worker process
    agent = _agent(args, seed)
    agent.explore(args.explore_budget, callback=lambda a: a.stats.first_success_step is None)
    row: dict[str, Any] = {
        "seed": seed,
        "method": "go-explore" if backward else "plain-ppo",
        "phase1_first_success_step": agent.stats.first_success_step,
        "demo_length": len(agent.best_trajectory()),
        "demo_score": agent.best_score,
    }
    if backward and agent.stats.first_success_step is None:
        row["error"] = "phase 1 found no success"
        return row
    start = time.perf_counter()
    budget = args.budget if backward else args.plain_budget
    agent.robustify(budget, backward=backward, eval_interval=args.eval_interval,
                    self_imitation=args.self_imitation)  # fmt: skip
    stats = agent.robustify_stats
    row.update(
        {
            "ppo_steps": stats["num_timesteps"],
            "solved_at": stats["solved_at"],
            "success_from_reset": stats["final_success_from_reset"],
            "seconds": round(time.perf_counter() - start, 1),
            "start_moves": len(stats["start_moves"]),
        }
    )
    return row


def phase2(args: argparse.Namespace) -> dict[str, Any]:
    jobs = [(args, s, True) for s in args.seeds]
    if args.plain_budget > 0:
        jobs += [(args, s, False) for s in (args.plain_seeds or args.seeds)]
    with Pool(args.workers) as pool:
        rows = pool.map(run_phase2, jobs, chunksize=1)
    summary = {}
    for method in ("go-explore", "plain-ppo"):
        chosen = [r for r in rows if r["method"] == method and "success_from_reset" in r]
        if chosen:
            summary[method] = {
                "mean_success_from_reset": float(
                    np.mean([r["success_from_reset"] for r in chosen])
                ),
                "seeds": len(chosen),
                "ppo_steps": [r["ppo_steps"] for r in chosen],
            }
    return {"summary": summary, "runs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["phase1", "speed", "phase2"])
    parser.add_argument("--env", required=True)
    parser.add_argument(
        "--cell", default="minigrid", choices=["minigrid", "montezuma", "downscaled"]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--budget", type=int, default=200_000, help="env steps per seed")
    parser.add_argument("--repeat-prob", type=float, default=0.95)
    parser.add_argument("--selection", default="2021", choices=["2021", "2019"])
    parser.add_argument("--no-stop", action="store_true", help="phase1: run the whole budget")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save-dir", default=None, help="phase1: save each agent here")
    parser.add_argument("--steps", type=int, default=50_000, help="speed: timed steps")
    parser.add_argument("--warmup", type=int, default=20_000, help="speed: untimed phase 1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--explore-budget", type=int, default=200_000, help="phase2: phase 1")
    parser.add_argument("--plain-budget", type=int, default=500_000)
    parser.add_argument("--plain-seeds", type=int, nargs="*", default=None)
    parser.add_argument("--eval-interval", type=int, default=5_000)
    parser.add_argument("--self-imitation", action="store_true")
    parser.add_argument("--tag", default="", help="suffix of the output file name")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    result = {"phase1": phase1, "speed": speed, "phase2": phase2}[args.command](args)
    document = {
        "command": "python benchmarks/bench_go_explore.py " + " ".join(_argv()),
        "machine": f"{platform.processor() or platform.machine()}, {_cores()} cores",
        "date": date.today().isoformat(),
        "args": {k: v for k, v in vars(args).items()},
        **result,
    }
    tag = f"_{args.tag}" if args.tag else ""
    out = (
        Path(args.out)
        if args.out
        else RESULTS / f"go_explore_{args.command}_{_name(args.env)}{tag}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1, default=str) + "\n")
    print(json.dumps(document.get("summary", result), indent=1, default=str))
    print(f"wrote {out}")


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
