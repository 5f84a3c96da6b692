"""What the trained Explore and Control players do, step by step.

Trains Adversarial Surprise exactly as ``bench_adversarial_surprise.py`` does for one seed (same
env, params, batch and budget, so the agent is the one behind that seed's row of the table; the
script checks this by printing the same coverage means), then plays the bench's evaluation
layouts and records, per player, where the agent is and what it does:

- ``facing_wall``: the cell in front of the agent is a wall (its view then shows little beyond
  the wall, the cheapest way to make observations predictable);
- ``in_active_noise``: the agent stands in a noisy room whose box is still closed;
- ``moved``: the step changed the agent's cell; ``turned``: a left or right turn;
- ``toggled``: the ``toggle`` action (opens doors and boxes);
- ``tv_in_view``: a TV ball is in the view after the step (noisy-TV family);
- ``handover_in_active_noise``: at the first step of each Control round, the agent stands in a
  noisy room whose box is closed (where Explore left Control).

The random policy is scored on the same layouts with the same round labels for comparison.

    python benchmarks/diagnose_adversarial_surprise.py --family rooms --seed 0 --steps 1000000
    # → benchmarks/results/adversarial_surprise_diagnosis_rooms_seed0.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_adversarial_surprise import EPISODE_LENGTH, EVAL_SEED, FAMILIES, N_ENVS, RESULTS

LEFT, RIGHT, TOGGLE = 0, 1, 5  # MiniGrid's actions


def play(
    policy: Any, schedule: Any, env_id: str, params: dict[str, float], episodes: int
) -> dict[str, Any]:
    """Play ``episodes`` evaluation episodes and return the per-player step statistics."""
    from teachgym.agents.adversarial_surprise import make_coverage_env, mean_coverage
    from teachgym.agents.adversarial_surprise.game import CONTROL
    from teachgym.agents.adversarial_surprise.metrics import (
        CoverageMonitor,
        find_coverage_monitor,
        room_index,
    )

    env = make_coverage_env(env_id, None, params, EPISODE_LENGTH)
    monitor = find_coverage_monitor(env)
    base: Any = env.unwrapped
    counts: dict[str, dict[str, int]] = {}
    handovers = [0, 0]  # Control rounds begun in active noise, Control rounds
    summaries = []
    try:
        for k in range(episodes):
            obs, _ = env.reset(seed=EVAL_SEED + k)
            state, done, step = None, False, 0
            while not done:
                player = schedule.player_at(step)
                if step % schedule.round_length == 0 and player == CONTROL:
                    handovers[0] += int(_in_active_noise(base, room_index))
                    handovers[1] += 1
                before = tuple(int(v) for v in base.agent_pos)
                front = base.grid.get(*base.front_pos)
                row = {
                    "facing_wall": front is not None and front.type == "wall",
                    "in_active_noise": _in_active_noise(base, room_index),
                }
                action, state = policy.predict(
                    obs, state=state, episode_start=np.array([step == 0])
                )
                action = int(np.asarray(action).reshape(-1)[0])
                obs, _, terminated, truncated, _ = env.step(action)
                row["moved"] = tuple(int(v) for v in base.agent_pos) != before
                row["turned"] = action in (LEFT, RIGHT)
                row["toggled"] = action == TOGGLE
                if getattr(base, "tv_balls", None):
                    row["tv_in_view"] = CoverageMonitor._tv_seen(base, base.tv_balls, obs)
                mine = counts.setdefault(player, {"steps": 0})
                mine["steps"] += 1
                for key, value in row.items():
                    mine[key] = mine.get(key, 0) + int(value)
                done = terminated or truncated
                step += 1
            summaries.append(monitor.summary())
    finally:
        env.close()
    fractions = {
        player: {key: value / mine["steps"] for key, value in mine.items() if key != "steps"}
        for player, mine in counts.items()
    }
    return {
        "per_player": fractions,
        "handover_in_active_noise": handovers[0] / max(handovers[1], 1),
        "coverage": mean_coverage(summaries),
    }


def _in_active_noise(base: Any, room_index: Any) -> bool:
    layout = getattr(base, "layout", None)
    noisy = getattr(layout, "noisy_rooms", ())
    frozen = getattr(base, "noise_frozen", None)
    room = room_index(base.rooms, (int(base.agent_pos[0]), int(base.agent_pos[1])))
    return room is not None and room in noisy and frozen is not None and not frozen[room]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="rooms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--tag", default="", help="suffix of the output name")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.episodes < 1:
        raise SystemExit(
            f"--steps and --episodes must be positive; got {args.steps}, {args.episodes}"
        )

    import torch

    torch.set_num_threads(1)
    from teachgym.agents.adversarial_surprise import AdversarialSurprise, RandomPolicy

    family = FAMILIES[args.family]
    env_id, params = family["env_id"], dict(family["params"])
    began = time.perf_counter()
    agent = AdversarialSurprise(
        env_id,
        env_params=params,
        episode_length=EPISODE_LENGTH,
        n_envs=N_ENVS,
        seed=args.seed,
        device="cpu",
    )
    agent.learn(args.steps)
    trained = time.perf_counter() - began
    result: dict[str, Any] = {
        "command": " ".join(
            ["python", "benchmarks/diagnose_adversarial_surprise.py", *(argv or sys.argv[1:])]
        ),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "env_id": env_id,
        "env_params": params,
        "steps": args.steps,
        "seed": args.seed,
        "train_minutes": trained / 60,
        "adversarial_surprise": play(agent, agent.schedule, env_id, params, args.episodes),
        "random": play(
            RandomPolicy(agent.action_space, seed=args.seed),
            agent.schedule,
            env_id,
            params,
            args.episodes,
        ),
    }
    agent.close()
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"adversarial_surprise_diagnosis_{args.family}_seed{args.seed}"
    path = args.out / (name + (f"_{args.tag}" if args.tag else "") + ".json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    for name in ("adversarial_surprise", "random"):
        entry = result[name]
        print(f"{name}: handover in active noise {entry['handover_in_active_noise']:.2f}")
        for player, values in entry["per_player"].items():
            print(f"  {player:>8}: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items()))
        print("  coverage: " + ", ".join(f"{k} {v:.3f}" for k, v in entry["coverage"].items()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
