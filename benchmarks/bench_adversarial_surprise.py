"""Adversarial Surprise against RND, SMiRL and random on the noisy-room families (issue #6).

Every method trains for the same number of env steps on the same env (fixed params, 128-step
episodes, MiniGrid's step limit at 128), then plays ``--eval-episodes`` episodes on the same
seeded layouts; the JSON holds each seed's mean coverage per episode and the mean ± std over
seeds, and the PNG compares the methods (bars: evaluation, mean ± std with each seed as a dot;
curves: coverage of the training episodes).

    # the issue's comparison: 5 seeds x 2M env steps (one run <= 30 min on one core)
    python benchmarks/bench_adversarial_surprise.py --family rooms --seeds 0 1 2 3 4 --workers 2
    python benchmarks/bench_adversarial_surprise.py --family tv --seeds 0 1 2 3 4 --workers 2
    # a pilot
    python benchmarks/bench_adversarial_surprise.py --family rooms --methods as random \\
        --seeds 0 --steps 200000 --tag pilot

Families (``--param KEY=VALUE`` overrides a param):

- ``rooms``: ``teachgym/NoisyRooms-v0`` with 4 rooms of side 6, half of them noisy, every noisy
  tile changing colour on every step until its room's box is opened. Claims: Adversarial
  Surprise visits more rooms per episode and freezes more noisy rooms than RND and random.
- ``tv``: ``teachgym/NoisyTVRooms-v0`` with 4 rooms of side 6 and one TV in the first room.
  Claim: RND spends more of its time next to the TV than Adversarial Surprise.

Each run uses one torch thread; ``--workers`` runs go in parallel processes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

FAMILIES: dict[str, dict[str, Any]] = {
    "rooms": {
        "env_id": "teachgym/NoisyRooms-v0",
        "params": {"num_rooms": 4, "room_size": 6, "noisy_fraction": 0.5, "noise_prob": 1.0},
        "metrics": ("rooms_visited", "cells_visited", "noisy_frozen_fraction"),
    },
    "tv": {
        "env_id": "teachgym/NoisyTVRooms-v0",
        "params": {"num_rooms": 4, "room_size": 6, "num_tvs": 1},
        "metrics": (
            "rooms_visited",
            "cells_visited",
            "tv_adjacent_fraction",
            "tv_in_view_fraction",
            "tv_switch_fraction",
        ),
    },
}
METHODS = ("as", "rnd", "smirl", "random")
LABELS = {"as": "Adversarial Surprise", "rnd": "RND", "smirl": "SMiRL", "random": "random"}
EPISODE_LENGTH = 128
N_ENVS = 8
# Evaluation layouts: episode k is reset with seed EVAL_SEED + k for every method and seed.
EVAL_SEED = 1_000_000
RESULTS = Path(__file__).resolve().parent / "results"


def run_one(
    method: str,
    seed: int,
    family: str,
    params: dict[str, float],
    steps: int,
    eval_episodes: int,
    device: str,
) -> dict[str, Any]:
    """Train ``method`` with ``seed`` for ``steps`` env steps, then evaluate its coverage."""
    import torch

    torch.set_num_threads(1)
    from teachgym.agents.adversarial_surprise import (
        AdversarialSurprise,
        CoverageLoggerCallback,
        RandomPolicy,
        SMiRL,
        build_rnd_ppo,
        evaluate_coverage,
        make_baseline_env,
        make_env,
        mean_coverage,
        with_coverage,
    )

    env_id = FAMILIES[family]["env_id"]
    began = time.perf_counter()
    curve: list[dict[str, float]] = []
    policy: Any
    make_eval_env: Callable[[], Any]
    if method in ("as", "smirl"):
        cls = AdversarialSurprise if method == "as" else SMiRL
        agent = cls(
            env_id,
            env_params=params,
            episode_length=EPISODE_LENGTH,
            n_envs=N_ENVS,
            seed=seed,
            device=device,
        )
        agent.learn(steps)
        curve = [
            {k: v for k, v in m.items() if k == "timesteps" or k in FAMILIES[family]["metrics"]}
            for m in agent.metrics_history
        ]
        policy = agent

        def make_eval_env() -> Any:
            return with_coverage(make_env(env_id, None, params, EPISODE_LENGTH))

    else:

        def make_eval_env() -> Any:
            return make_baseline_env(env_id, None, params, EPISODE_LENGTH)

        if method == "rnd":
            model = build_rnd_ppo(
                env_id,
                n_envs=N_ENVS,
                env_params=params,
                episode_length=EPISODE_LENGTH,
                seed=seed,
                device=device,
            )
            callback = CoverageLoggerCallback()
            model.learn(steps, callback=callback)
            curve = [{"timesteps": float(t), **means} for t, means in callback.history]
            policy = model
        else:
            policy = RandomPolicy(make_eval_env().action_space, seed=seed)
    trained = time.perf_counter() - began
    episodes = evaluate_coverage(policy, make_eval_env, eval_episodes, seed=EVAL_SEED)
    return {
        "method": method,
        "seed": seed,
        "train_seconds": trained,
        "eval_seconds": time.perf_counter() - began - trained,
        "eval": _clean(mean_coverage(episodes)),
        "curve": [_clean(point) for point in curve],
    }


def _clean(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}


def summarise(runs: list[dict[str, Any]], metrics: tuple[str, ...]) -> dict[str, Any]:
    """Per method: each seed's evaluation and the mean ± std (ddof=1) over seeds."""
    summary: dict[str, Any] = {}
    for method in dict.fromkeys(run["method"] for run in runs):
        mine = [run for run in runs if run["method"] == method]
        stats = {}
        for metric in metrics:
            values = [run["eval"][metric] for run in mine if run["eval"][metric] is not None]
            if values:
                stats[metric] = {
                    "mean": float(np.mean(values)),
                    "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                }
        summary[method] = {
            "seeds": [run["seed"] for run in mine],
            "eval": stats,
            "train_minutes_mean": float(np.mean([run["train_seconds"] for run in mine]) / 60),
        }
    return summary


def check_claims(summary: dict[str, Any], family: str) -> dict[str, Any]:
    """The issue's claims, evaluated on the means (``None`` when a method was not run)."""

    def mean(method: str, metric: str) -> float | None:
        value = summary.get(method, {}).get("eval", {}).get(metric)
        return None if value is None else value["mean"]

    def more(metric: str, winner: str, losers: tuple[str, ...]) -> bool | None:
        best = mean(winner, metric)
        others = [mean(loser, metric) for loser in losers]
        if best is None or any(other is None for other in others):
            return None
        return all(best > other for other in others if other is not None)

    if family == "rooms":
        return {
            "as_visits_more_rooms_than_rnd_and_random": more(
                "rooms_visited", "as", ("rnd", "random")
            ),
            "as_freezes_more_noisy_rooms_than_rnd_and_random": more(
                "noisy_frozen_fraction", "as", ("rnd", "random")
            ),
        }
    return {"rnd_more_time_next_to_tv_than_as": more("tv_adjacent_fraction", "rnd", ("as",))}


def plot(
    runs: list[dict[str, Any]], summary: dict[str, Any], metrics: tuple[str, ...], path: Path
) -> None:
    """Bars (evaluation, mean ± std, seeds as dots) over curves (training episodes)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    methods = list(summary)
    figure = Figure(figsize=(4.0 * len(metrics), 6.4), dpi=110, layout="constrained")
    axes = figure.subplots(2, len(metrics), squeeze=False)
    colours = {m: f"C{k}" for k, m in enumerate(METHODS)}
    for column, metric in enumerate(metrics):
        bar_axis, curve_axis = axes[0][column], axes[1][column]
        for index, method in enumerate(methods):
            stats = summary[method]["eval"].get(metric)
            if stats is None:
                continue
            bar_axis.bar(
                index,
                stats["mean"],
                yerr=stats["std"],
                color=colours[method],
                alpha=0.7,
                capsize=4,
            )
            seeds = [run["eval"][metric] for run in runs if run["method"] == method]
            bar_axis.scatter([index] * len(seeds), seeds, color="black", s=10, zorder=3)
            curves = [run["curve"] for run in runs if run["method"] == method and run["curve"]]
            if curves:
                length = min(len(c) for c in curves)
                steps = [point["timesteps"] for point in curves[0][:length]]
                values = np.array(
                    [
                        [np.nan if p.get(metric) is None else p[metric] for p in c[:length]]
                        for c in curves
                    ]
                )
                window = max(1, length // 20)
                kernel = np.ones(window) / window
                smoothed = np.convolve(np.nanmean(values, axis=0), kernel, mode="valid")
                curve_axis.plot(
                    steps[window - 1 :], smoothed, color=colours[method], label=LABELS[method]
                )
        bar_axis.set_xticks(range(len(methods)), [LABELS[m] for m in methods], fontsize=8)
        bar_axis.set_title(f"{metric} (evaluation)", fontsize=10)
        curve_axis.set_title(f"{metric} (training episodes)", fontsize=10)
        curve_axis.set_xlabel("env steps")
        if column == 0:
            curve_axis.legend(fontsize=8)
    figure.savefig(path)


def parse_params(items: list[str], defaults: dict[str, float]) -> dict[str, float]:
    params = dict(defaults)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects KEY=VALUE; got {item!r}")
        params[key] = float(value)
    return params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="rooms")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=["as", "rnd", "random"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--steps",
        type=int,
        default=2_000_000,
        help="env steps per run, the same for every method (default 2M: on one core of the "
        "2-core dev machine ~15 min for AS or SMiRL and ~20 min for RND when idle, up to ~23 "
        "and ~27 min when both cores are busy)",
    )
    parser.add_argument("--eval-episodes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--tag", default="", help="suffix of the output names")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    family = FAMILIES[args.family]
    params = parse_params(args.param, family["params"])
    jobs = [(method, seed) for seed in args.seeds for method in args.methods]
    began = time.perf_counter()
    runs: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [
            pool.submit(
                run_one,
                method,
                seed,
                args.family,
                params,
                args.steps,
                args.eval_episodes,
                args.device,
            )
            for method, seed in jobs
        ]
        for future in futures:
            run = future.result()
            runs.append(run)
            print(
                f"{run['method']:>6} seed {run['seed']}: {run['train_seconds'] / 60:.1f} min, "
                + ", ".join(
                    f"{k} {v:.3f}"
                    for k, v in run["eval"].items()
                    if v is not None and k in family["metrics"]
                ),
                flush=True,
            )
    metrics = family["metrics"]
    summary = summarise(runs, metrics)
    claims = check_claims(summary, args.family)
    name = f"adversarial_surprise_{args.family}" + (f"_{args.tag}" if args.tag else "")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "command": " ".join(["python", "benchmarks/bench_adversarial_surprise.py", *sys.argv[1:]])
        if argv is None
        else " ".join(argv),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "env_id": family["env_id"],
        "env_params": params,
        "episode_length": EPISODE_LENGTH,
        "n_envs": N_ENVS,
        "steps": args.steps,
        "eval_episodes": args.eval_episodes,
        "eval_seed": EVAL_SEED,
        "wall_minutes": (time.perf_counter() - began) / 60,
        "claims": claims,
        "summary": summary,
        "runs": runs,
    }
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(runs, summary, metrics, args.out / f"{name}.png")
    for method, entry in summary.items():
        print(
            f"{LABELS[method]:>20}: "
            + ", ".join(
                f"{metric} {s['mean']:.3f} ± {s['std']:.3f}" for metric, s in entry["eval"].items()
            )
        )
    print("claims:", json.dumps(claims))
    print(f"wrote {args.out / name}.json and .png")


if __name__ == "__main__":
    main()
