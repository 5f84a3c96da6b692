"""Compare teachers × seeds on one env: % of the test set mastered over training, mean and
95% confidence band per teacher, in one PNG.

    python examples/compare_teachers.py                     # random vs alp-gmm, 2 seeds, minutes
    python examples/compare_teachers.py --teachers random alp-gmm riac --seeds 5 \\
        --steps 500000 --eval-interval 50000 --jobs 2 --out runs/compare-nav

Every run goes through ``teachgym.training.train`` and keeps its own run folder under
``--out`` (``<teacher>-s<seed>``), so any of them can be inspected, evaluated or resumed later.
The figure is ``<out>/mastery_curves.png`` and the numbers ``<out>/results.json``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.training import TrainConfig, train
from teachgym.training.plots import plot_mastery_curves
from teachgym.training.runs import RunDir


def run_one(config: TrainConfig) -> str:
    """Train one (teacher, seed) run; returns its folder. One torch thread per process, so
    ``--jobs`` runs share the cores instead of fighting over them."""
    train(config, progress=False)
    return str(config.run_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="teachgym/GridNavigation-v0")
    parser.add_argument("--teachers", nargs="+", default=["random", "alp-gmm"])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, ...")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--eval-interval", type=int, default=5_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    args = parser.parse_args()

    configs = [
        TrainConfig(
            env_id=args.env,
            teacher=teacher,
            algorithm=args.algo,
            # Small PPO: short rollouts so a 20k-step run sees ~20 updates.
            algorithm_kwargs={"n_steps": 256, "batch_size": 256} if args.algo == "ppo" else {},
            n_envs=args.n_envs,
            total_timesteps=args.steps,
            seed=seed,
            eval_interval=args.eval_interval,
            checkpoint_interval=0,
            mastery_map=False,
            torch_threads=1,
            run_dir=str(args.out / f"{teacher}-s{seed}"),
        )
        for teacher in args.teachers
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    for config in configs:
        config.validate()  # every bad name fails now, not after the first runs
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            folders = list(pool.map(run_one, configs))
    else:
        folders = [run_one(config) for config in configs]

    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    results: dict[str, Any] = {}
    for config, folder in zip(configs, folders, strict=True):
        rows = RunDir(folder).read_eval_rows()
        steps = np.array([row["step"] for row in rows])
        mastered = np.array([row["mastered_pct"] for row in rows])
        curves.setdefault(config.teacher, []).append((steps, mastered))
        results.setdefault(config.teacher, {"final_mastered_pct": [], "curves": [], "runs": []})
        results[config.teacher]["final_mastered_pct"].append(float(mastered[-1]))
        results[config.teacher]["curves"].append(
            {"seed": config.seed, "step": steps.tolist(), "mastered_pct": mastered.tolist()}
        )
        results[config.teacher]["runs"].append(folder)
    figure = plot_mastery_curves(
        curves, args.out / "mastery_curves.png", title=f"{args.env}: % of test set mastered"
    )
    (args.out / "results.json").write_text(
        json.dumps({"config": vars(args) | {"out": str(args.out)}, "results": results}, indent=2)
    )
    for teacher, entry in results.items():
        final = np.array(entry["final_mastered_pct"])
        spread = final.std(ddof=1) if len(final) > 1 else 0.0
        print(f"{teacher:>12}: {final.mean():5.1f} ± {spread:4.1f} % mastered ({len(final)} seeds)")
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
