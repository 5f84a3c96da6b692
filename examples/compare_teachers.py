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


def positive_int(text: str) -> int:
    """An argparse type: an integer ≥ 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer ≥ 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The script's options, each with its help and default (``--help``)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--env", default="teachgym/GridNavigation-v0", help="teachgym env id")
    parser.add_argument(
        "--teachers",
        nargs="+",
        default=["random", "alp-gmm"],
        metavar="NAME",
        help="registered teacher names (teachgym list), one curve each",
    )
    parser.add_argument("--seeds", type=positive_int, default=2, help="seeds per teacher")
    parser.add_argument(
        "--first-seed", type=non_negative_int, default=0, help="seeds are first-seed, …"
    )
    parser.add_argument(
        "--steps", type=positive_int, default=20_000, help="training steps of each run"
    )
    parser.add_argument(
        "--eval-interval",
        type=non_negative_int,
        default=5_000,
        help="steps between test-set evaluations (the curves' points); 0: only the final "
        "evaluation, drawn as one point per teacher",
    )
    parser.add_argument("--n-envs", type=positive_int, default=4, help="parallel envs of each run")
    parser.add_argument("--algo", default="ppo", help="stable-baselines3 algorithm name")
    parser.add_argument(
        "--jobs", type=positive_int, default=1, help="runs trained in parallel (processes)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/compare"),
        help="folder of the run folders, mastery_curves.png and results.json",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

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
