"""Go-Explore phase 1 on Montezuma's Revenge: archive size and best score over 1M steps.

    python examples/go_explore_montezuma.py                          # 1M steps, ~10 min on CPU
    python examples/go_explore_montezuma.py --cell downscaled --steps 200000
    python examples/go_explore_montezuma.py --seed 3 --out runs/ge-montezuma-s3

Ecoffet et al. 2019 ("Go-Explore", section 3.1) explore ``MontezumaRevenge`` with
domain-knowledge cells (level, room, keys, x // 16, y // 16 from the RAM) and return to cells by
restoring emulator snapshots. The env is ``ALE/MontezumaRevenge-v5`` with ``frameskip=4`` and
``repeat_action_probability=0`` (deterministic, so a restored state has one future). What a run
should show: the first key within 1M agent steps on at least 4 of 5 seeds, and 2,500 points.

The folder ``--out`` receives the saved agent (``GoExplore.load`` rebuilds it), ``progress.png``
(cells and best score against steps), ``rooms.png`` (with Montezuma cells) and
``summary.json``: first key step, best score, rooms, cells, steps per second, the command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from teachgym.agents.go_explore import GoExplore, make_go_explore_env
from teachgym.agents.go_explore.plots import plot_progress, plot_rooms

ENV_ID = "ALE/MontezumaRevenge-v5"
RAM_ROOM = 3  # the room number's RAM address (see cells.MontezumaCell)


def raw_steps_per_second(steps: int = 10_000) -> float:
    """Random-action steps per second of the bare env: phase 1 should reach 90% of it."""
    env = make_go_explore_env(ENV_ID)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(env.action_space.n, size=steps)  # type: ignore[attr-defined]
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", default="montezuma", choices=["montezuma", "downscaled"])
    parser.add_argument("--out", type=Path, default=None, help="default: runs/ge-montezuma-...")
    args = parser.parse_args()
    out = args.out or Path(f"runs/ge-montezuma-{args.cell}-s{args.seed}")
    out.mkdir(parents=True, exist_ok=True)

    agent = GoExplore(ENV_ID, cell_fn=args.cell, seed=args.seed)
    # Rooms are read from the RAM where each exploration ends: cheap, and cell-agnostic.
    rooms: set[int] = set()

    def note_room(explorer: GoExplore) -> None:
        rooms.add(int(explorer.env.unwrapped.ale.getRAM()[RAM_ROOM]))  # type: ignore[attr-defined]

    start = time.perf_counter()
    agent.explore(args.steps, callback=note_room, progress_bar=True)
    seconds = time.perf_counter() - start

    if args.cell == "montezuma":
        rooms.update(key[1] for key in agent.archive.keys)  # type: ignore[index]
        plot_rooms(agent, out / "rooms.png")
    agent.save(out / "agent")
    title = f"Go-Explore on Montezuma's Revenge ({args.cell} cells, seed {args.seed})"
    plot_progress(agent.stats.history, out / "progress.png", title=title)
    summary = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        # Nothing scores in the first room before the key (100 points), so the first
        # trajectory to score is the first to hold the key.
        "first_key_step": agent.stats.first_success_step,
        "best_score": agent.best_score,
        "rooms": sorted(rooms),
        "cells": len(agent.archive),
        "steps": agent.stats.num_timesteps,
        "seconds": round(seconds, 1),
        "steps_per_second": round(agent.stats.num_timesteps / seconds, 1),
        "raw_env_steps_per_second": round(raw_steps_per_second(), 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
