"""Go-Explore on a MiniGrid env: explore with a cell archive, then robustify into a PPO policy.

    python examples/go_explore_minigrid.py --env MiniGrid-KeyCorridorS3R3-v0 --seed 0
    python examples/go_explore_minigrid.py --env MiniGrid-DoorKey-16x16-v0 \\
        --explore-steps 200000 --robustify-steps 0

Writes to ``--out``: the saved agent (plain data: archive, settings, policy weights), a plot of
archive size and best score over env steps, a map of the discovered cells and ``summary.json``.

MiniGrid's actions are egocentric (turn left/right, forward …), so the 2019 paper's Atari setting
of repeating the previous action with probability 0.95 mostly spins the agent or pushes it into
walls; GoExplore uses 0 on MiniGrid unless told otherwise (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from teachgym.agents.go_explore import GoExplore, MiniGridCell
from teachgym.agents.go_explore.plots import plot_cell_map, plot_progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="MiniGrid-KeyCorridorS3R3-v0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--explore-steps", type=int, default=100_000)
    parser.add_argument("--robustify-steps", type=int, default=500_000)
    parser.add_argument("--repeat-prob", type=float, default=None, help="default: 0 on MiniGrid")
    parser.add_argument("--out", type=Path, default=Path("runs/go_explore_minigrid"))
    args = parser.parse_args()
    torch.set_num_threads(1)  # a small MLP: one thread is fastest on a few cores

    agent = GoExplore(
        args.env, cell_fn=MiniGridCell(), seed=args.seed, repeat_action_prob=args.repeat_prob
    )
    start = time.perf_counter()
    # Phase 1 stops at the first success: that trajectory is phase 2's demonstration.
    agent.explore(
        args.explore_steps, callback=lambda a: a.stats.first_success_step is None, progress_bar=True
    )
    explore_seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    plot_progress(agent.stats.history, args.out / "progress.png")
    plot_cell_map(agent, args.out / "cells.png")
    summary = {
        "env": args.env,
        "seed": args.seed,
        "first_success_step": agent.stats.first_success_step,
        "cells": len(agent.archive),
        "best_score": agent.best_score,
        "phase1_steps_per_second": round(agent.stats.num_timesteps / explore_seconds),
    }
    print(json.dumps(summary, indent=1))
    if args.robustify_steps > 0 and agent.stats.first_success_step is not None:
        agent.robustify(args.robustify_steps, progress_bar=True)
        stats = agent.robustify_stats
        summary |= {
            "ppo_steps": stats["num_timesteps"],
            "solved_at": stats["solved_at"],
            "success_from_reset": stats["final_success_from_reset"],
        }
        print(
            f"greedy success from reset: {stats['final_success_from_reset']:.2f} "
            f"after {stats['num_timesteps']} PPO steps"
        )
    agent.save(args.out / "agent")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
