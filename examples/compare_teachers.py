"""Compare teachers × seeds on one env: % of the test set mastered, with the statistics of
Agarwal et al. 2021 ("Deep RL at the edge of the statistical precipice", through rliable): the
IQM over seeds with a 95% stratified-bootstrap confidence interval, the probability that each
teacher improves on ``random``, and IQM learning curves with their intervals.

    python examples/compare_teachers.py                     # random vs alp-gmm, 2 seeds, minutes
    python examples/compare_teachers.py --teachers random alp-gmm riac --seeds 10 \\
        --steps 500000 --eval-interval 50000 --jobs 2 --out runs/compare-nav
    python examples/compare_teachers.py --backend batched --steps 3000000 --seeds 10 ...
    python examples/compare_teachers.py --report-only --out runs/compare-nav   # no training

Every run goes through ``teachgym.training.train`` and keeps its own run folder under
``--out`` (``<teacher>-s<seed>``), so any of them can be inspected, evaluated or resumed later.
``--report-only`` recomputes the statistics and figures from every run folder under ``--out``
(runs trained separately, or still training: their latest evaluation counts as final).
Written under ``--out``: ``results.json`` (every run's curve and the statistics),
``final_mastered.png`` (IQM and mean with their intervals), ``improvement_over_random.png``
(P(teacher > random)) and ``mastery_curves.png`` (IQM curves). Needs the ``stats`` extra:
``pip install "teachgym[stats]"``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from teachgym.bench import stats
from teachgym.training import TrainConfig, train
from teachgym.training.config import BACKENDS, DEFAULT_N_ENVS
from teachgym.training.runs import RunDir, is_run

#: The teacher every other one is compared with (P(teacher > baseline)), when it was run.
BASELINE = "random"
#: Seed of the bootstrap resampling: the statistics of the same runs are the same every time.
BOOTSTRAP_SEED = 0


@dataclass
class Run:
    """One finished (or interrupted) run: its teacher, seed, folder and test-set evaluations."""

    teacher: str
    seed: int
    folder: str
    steps: np.ndarray
    mastered_pct: np.ndarray


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
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sb3",
        help="sb3: stable-baselines3 with small PPO settings; batched: the on-device PPO on "
        "batched envs with its default hyperparameters",
    )
    parser.add_argument(
        "--n-envs",
        type=positive_int,
        default=None,
        # "%(default).0s" prints nothing and keeps the formatter from adding "(default: None)".
        help="envs of each run (default: "
        + ", ".join(f"{count} for {backend}" for backend, count in DEFAULT_N_ENVS.items())
        + ")%(default).0s",
    )
    parser.add_argument(
        "--algo", default="ppo", help="stable-baselines3 algorithm name (--backend sb3)"
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, help="runs trained in parallel (processes)"
    )
    parser.add_argument(
        "--reps", type=positive_int, default=2000, help="bootstrap resamples of each interval"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="train nothing: recompute the statistics and figures from every run folder under "
        "--out (the training options are ignored)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/compare"),
        help="folder of the run folders, the figures and results.json",
    )
    return parser


def make_configs(args: argparse.Namespace) -> list[TrainConfig]:
    """One validated config per (teacher, seed), so every bad name fails before the first run."""
    if args.backend == "batched":
        algorithm_kwargs: dict[str, Any] = {}  # the batched PPO's own defaults
    elif args.algo == "ppo":
        # Small PPO: short rollouts so a 20k-step run sees ~20 updates.
        algorithm_kwargs = {"n_steps": 256, "batch_size": 256}
    else:
        algorithm_kwargs = {}
    configs = [
        TrainConfig(
            env_id=args.env,
            teacher=teacher,
            algorithm=args.algo,
            algorithm_kwargs=algorithm_kwargs,
            backend=args.backend,
            n_envs=args.n_envs,  # None: the backend's default
            total_timesteps=args.steps,
            seed=seed,
            eval_interval=args.eval_interval,
            # The grid envs are cheap: test episodes in this process beat a sub-process per
            # core when --jobs runs already share the cores.
            eval_vec_env="dummy",
            eval_n_envs=8,
            checkpoint_interval=0,
            mastery_map=False,
            torch_threads=1,
            run_dir=str(args.out / f"{teacher}-s{seed}"),
        )
        # Seed by seed, so that runs cut short leave every teacher with as many seeds.
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for teacher in args.teachers
    ]
    for config in configs:
        config.validate()
    return configs


def read_run(folder: str | Path) -> Run | None:
    """A run folder's teacher, seed and evaluations; ``None`` when it has no evaluation yet."""
    run_dir = RunDir.open(folder)
    config = run_dir.read_config()["config"]
    rows = run_dir.read_eval_rows()
    if not rows:
        return None
    return Run(
        teacher=str(config["teacher"]),
        seed=int(config["seed"]),
        folder=str(folder),
        steps=np.array([row["step"] for row in rows]),
        mastered_pct=np.array([row["mastered_pct"] for row in rows]),
    )


def find_runs(out: Path) -> tuple[list[Run], list[str]]:
    """Every run folder directly under ``out`` with at least one evaluation, and the folders
    skipped for having none."""
    runs, skipped = [], []
    for folder in sorted(path for path in out.iterdir() if path.is_dir() and is_run(path)):
        run = read_run(folder)
        if run is None:
            skipped.append(str(folder))
        else:
            runs.append(run)
    return runs, skipped


def common_curves(runs: Sequence[Run]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every run's curve on one grid of steps: the first run's evaluation steps up to the last
    step every run reached (runs of one command evaluate at the same steps; an interrupted run
    shortens the grid), each curve interpolated there. Returns the steps and
    ``{teacher: (n_seeds, n_points)}``."""
    reached = min(float(run.steps[-1]) for run in runs)
    steps = runs[0].steps[runs[0].steps <= reached]
    if len(steps) == 0:
        steps = np.array([reached])
    by_teacher: dict[str, list[np.ndarray]] = {}
    for run in runs:
        by_teacher.setdefault(run.teacher, []).append(
            np.interp(steps, run.steps.astype(float), run.mastered_pct.astype(float))
        )
    return steps, {teacher: np.stack(curves) for teacher, curves in by_teacher.items()}


def report(
    runs: Sequence[Run], out: Path, *, env: str, reps: int, confidence: float = 0.95
) -> dict[str, Any]:
    """The statistics of ``runs`` (see the module docstring), written as figures under
    ``out``; returns them as a JSON-able dict."""
    final: dict[str, list[float]] = {}
    for run in runs:
        final.setdefault(run.teacher, []).append(float(run.mastered_pct[-1]))
    seed = BOOTSTRAP_SEED
    final_stats = stats.aggregate(final, reps=reps, confidence=confidence, seed=seed)
    improvements = {
        (teacher, BASELINE): stats.probability_of_improvement(
            final[teacher], final[BASELINE], reps=reps, confidence=confidence, seed=seed
        )
        for teacher in final
        if BASELINE in final and teacher != BASELINE
    }
    steps, curve_scores = common_curves(runs)
    curve_stats = stats.curves(steps, curve_scores, reps=reps, confidence=confidence, seed=seed)
    n_seeds = {teacher: len(values) for teacher, values in final.items()}

    figures = [
        stats.plot_interval_estimates(
            final_stats, out / "final_mastered.png", xlabel="% of test set mastered",
            title=f"{env}: final % mastered ({confidence:.0%} CI)",
        ),
        stats.plot_curves(
            steps, curve_stats, out / "mastery_curves.png", n_seeds=n_seeds,
            ylabel="% mastered", title=f"{env}: % of test set mastered", confidence=confidence,
        ),
    ]  # fmt: skip
    if improvements:
        figures.append(
            stats.plot_probability_of_improvement(
                improvements,
                out / "improvement_over_random.png",
                title=f"{env}: P(teacher > {BASELINE}), final % mastered",
            )
        )
    return {
        "reps": reps,
        "confidence": confidence,
        "seed": seed,
        "final_mastered_pct": final_stats,
        f"improvement_over_{BASELINE}": {
            teacher: value for (teacher, _), value in improvements.items()
        },
        "curves": {
            "step": steps.tolist(),
            **{
                teacher: {key: values.tolist() for key, values in curve.items()}
                for teacher, curve in curve_stats.items()
            },
        },
        "figures": [str(path) for path in figures],
    }


def table(statistics: dict[str, Any]) -> str:
    """The statistics as a small text table, one line per teacher."""
    level = f"{statistics['confidence']:.0%}"
    improvements = statistics[f"improvement_over_{BASELINE}"]
    header = (
        f"{'teacher':>12} {'seeds':>5}  {'IQM % mastered [' + level + ' CI]':>28}  "
        f"{'mean [' + level + ' CI]':>22}  P(> {BASELINE}) [{level} CI]"
    )
    lines = [header]
    for teacher, entry in statistics["final_mastered_pct"].items():
        iqm = f"{entry['iqm']:5.1f} [{entry['iqm_ci'][0]:5.1f}, {entry['iqm_ci'][1]:5.1f}]"
        mean = f"{entry['mean']:5.1f} [{entry['mean_ci'][0]:5.1f}, {entry['mean_ci'][1]:5.1f}]"
        line = f"{teacher:>12} {entry['n_seeds']:>5}  {iqm:>28}  {mean:>22}"
        if teacher in improvements:
            value = improvements[teacher]
            line += f"  {value['p']:.2f} [{value['ci'][0]:.2f}, {value['ci'][1]:.2f}]"
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)

    if args.report_only:
        if not args.out.is_dir():
            parser.error(f"--report-only: {args.out} is not a folder of run folders")
        runs, skipped = find_runs(args.out)
        if not runs:
            parser.error(
                f"--report-only: no run folder with an evaluation under {args.out}; expected "
                "the <teacher>-s<seed> folders of an earlier run of this script"
            )
        for folder in skipped:
            print(f"skipped {folder}: no evaluation yet", file=sys.stderr)
        envs = {RunDir(run.folder).read_config()["config"]["env_id"] for run in runs}
        env = ", ".join(sorted(envs))
    else:
        configs = make_configs(args)
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                folders = list(pool.map(run_one, configs))
        else:
            folders = [run_one(config) for config in configs]
        runs = [run for run in map(read_run, folders) if run is not None]
        env = args.env

    statistics = report(runs, args.out, env=env, reps=args.reps)
    results: dict[str, Any] = {}
    for run in runs:
        entry = results.setdefault(
            run.teacher, {"final_mastered_pct": [], "curves": [], "runs": []}
        )
        entry["final_mastered_pct"].append(float(run.mastered_pct[-1]))
        entry["curves"].append(
            {
                "seed": run.seed,
                "step": run.steps.tolist(),
                "mastered_pct": run.mastered_pct.tolist(),
            }
        )
        entry["runs"].append(run.folder)
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "config": vars(args) | {"out": str(args.out)},
                "statistics": statistics,
                "results": results,
            },
            indent=2,
        )
    )
    print(table(statistics))
    for figure in statistics["figures"]:
        print(f"figure: {figure}")
    print(f"numbers: {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
