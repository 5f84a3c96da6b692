"""End-to-end training speed: the batched backend (on-device PPO, ALP-GMM in the loop) against
stable-baselines3's PPO on today's 8 MiniGrid-based envs, in the same run.

    .venv/bin/python benchmarks/bench_batched_ppo.py                         # ~5 min on 2 cores
    .venv/bin/python benchmarks/bench_batched_ppo.py --n-envs 256 1024 --steps 1000000 \\
        --json benchmarks/results/batched_ppo_speed.json
    .venv/bin/python benchmarks/bench_batched_ppo.py --device cuda --n-envs 4096 16384 --threads 0

Both go through ``teachgym.training.train`` (run folder, TensorBoard, teacher; no evaluation, no
checkpoints), so the figure is what ``teachgym train`` delivers. Steps per second are the run's
steps over the wall time of ``train`` (setup included); the batched runs also report where the
time goes (env steps, policy forward passes, PPO updates, the curriculum and teacher), from the
trainer's own timers (``summary.json``'s ``timing``).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import torch

from teachgym.training import TrainConfig, train


def run(config: TrainConfig) -> dict[str, Any]:
    started = time.perf_counter()
    result = train(config, progress=False)
    wall = time.perf_counter() - started
    summary = json.loads((result.run_dir / "summary.json").read_text())
    return {
        "steps": result.num_timesteps,
        "episodes": result.episodes,
        "wall_s": wall,
        "steps_per_s": result.num_timesteps / wall,
        "timing": summary.get("timing"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="teachgym/GridNavigation-v0")
    parser.add_argument("--teacher", default="alp-gmm")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=1_000_000, help="batched runs' steps")
    parser.add_argument("--sb3-steps", type=int, default=50_000, help="the SB3 baseline's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 0: default")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    threads = None if args.threads == 0 else args.threads
    results: dict[str, Any] = {
        "env": args.env,
        "teacher": args.teacher,
        "device": args.device,
        "torch_threads": threads or torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "date": date.today().isoformat(),
        "batched": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        common = {
            "env_id": args.env,
            "teacher": args.teacher,
            "eval_episodes": 0,
            "checkpoint_interval": 0,
            "mastery_map": False,
            "torch_threads": threads,
            "device": args.device,
        }
        if not args.skip_sb3:
            baseline = TrainConfig(
                algorithm="ppo",
                algorithm_kwargs={"n_steps": 256, "batch_size": 256},  # make demo's
                n_envs=8,
                total_timesteps=args.sb3_steps,
                run_dir=f"{folder}/sb3",
                **common,  # type: ignore[arg-type]
            )
            results["sb3_8_envs"] = run(baseline)
            print(f"sb3 PPO, 8 envs: {results['sb3_8_envs']['steps_per_s']:,.0f} steps/s")
        for n_envs in args.n_envs:
            config = TrainConfig(
                backend="batched",
                n_envs=n_envs,
                total_timesteps=args.steps,
                run_dir=f"{folder}/batched-{n_envs}",
                **common,  # type: ignore[arg-type]
            )
            entry = run(config)
            results["batched"][str(n_envs)] = entry
            timing = entry["timing"]
            shares = {
                key: timing[key] / entry["wall_s"]
                for key in ("env_s", "policy_s", "update_s", "curriculum_s", "teacher_s")
            }
            entry["shares_of_wall"] = shares
            print(
                f"batched PPO, {n_envs} envs: {entry['steps_per_s']:,.0f} steps/s; "
                + ", ".join(f"{key[:-2]} {value:.0%}" for key, value in shares.items())
            )
    if "sb3_8_envs" in results:
        for entry in results["batched"].values():
            entry["speedup_vs_sb3"] = entry["steps_per_s"] / results["sb3_8_envs"]["steps_per_s"]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
