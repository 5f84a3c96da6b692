"""Adversarial Surprise against RND, SMiRL and random on the noisy-room families.

Every method trains for the same number of env steps on the same env (fixed params, 128-step
episodes, MiniGrid's step limit at 128), then plays ``--eval-episodes`` episodes on the same
seeded layouts; the JSON holds each seed's mean coverage per episode and the mean ± std over
seeds, and the PNG compares the methods (bars: evaluation, mean ± std with each seed as a dot;
curves: coverage of the training episodes).

    # the issue's comparison: 5 seeds x 2M env steps (one run <= 30 min on one core)
    python benchmarks/bench_adversarial_surprise.py --family rooms --seeds 0 1 2 3 4 --workers 2
    python benchmarks/bench_adversarial_surprise.py --family tv --seeds 0 1 2 3 4 --workers 2
    # runs made in several invocations (each file is rewritten as its runs finish), summarised
    python benchmarks/bench_adversarial_surprise.py --family rooms --tag 1m_all \\
        --merge benchmarks/results/adversarial_surprise_rooms_1m_seed0.json ...
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
from concurrent.futures import ProcessPoolExecutor, as_completed
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
        make_coverage_env,
        mean_coverage,
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
            return make_coverage_env(env_id, None, params, EPISODE_LENGTH)

    else:

        def make_eval_env() -> Any:
            return make_coverage_env(env_id, None, params, EPISODE_LENGTH, obs="auto")

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
            probe = make_eval_env()
            policy = RandomPolicy(probe.action_space, seed=seed)
            probe.close()
    trained = time.perf_counter() - began
    episodes = evaluate_coverage(policy, make_eval_env, eval_episodes, seed=EVAL_SEED)
    if method in ("as", "smirl"):
        policy.close()
    elif method == "rnd":
        policy.get_env().close()
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


def check_claims(
    runs: list[dict[str, Any]], summary: dict[str, Any], family: str
) -> dict[str, Any]:
    """The issue's claims: for each, whether the winner's mean beats every loser's (``holds``),
    each comparison's means and one-sided Welch t-test p-value over seeds, and whether every
    comparison is significant at 5% (``holds`` is ``None`` when a method was not run; a p-value
    is ``None`` with fewer than two seeds on a side or no spread at all)."""
    from scipy.stats import ttest_ind

    def values(method: str, metric: str) -> list[float]:
        return [
            run["eval"][metric]
            for run in runs
            if run["method"] == method and run["eval"].get(metric) is not None
        ]

    def claim(metric: str, winner: str, losers: tuple[str, ...]) -> dict[str, Any]:
        best = values(winner, metric)
        entry: dict[str, Any] = {"metric": metric, "winner": winner, "holds": None, "against": {}}
        entry["significant_at_0.05"] = None
        if not best or any(not values(loser, metric) for loser in losers):
            return entry
        for loser in losers:
            other = values(loser, metric)
            p_value = None
            if len(best) > 1 and len(other) > 1 and np.std(best) + np.std(other) > 0:
                p_value = float(
                    ttest_ind(best, other, equal_var=False, alternative="greater").pvalue
                )
            entry["against"][loser] = {
                "means": [float(np.mean(best)), float(np.mean(other))],
                "p_welch_one_sided": p_value,
            }
        entry["holds"] = all(
            versus["means"][0] > versus["means"][1] for versus in entry["against"].values()
        )
        p_values = [versus["p_welch_one_sided"] for versus in entry["against"].values()]
        entry["significant_at_0.05"] = all(p is not None and p < 0.05 for p in p_values)
        return entry

    if family == "rooms":
        return {
            "as_visits_more_rooms_than_rnd_and_random": claim(
                "rooms_visited", "as", ("rnd", "random")
            ),
            "as_freezes_more_noisy_rooms_than_rnd_and_random": claim(
                "noisy_frozen_fraction", "as", ("rnd", "random")
            ),
        }
    # The TV sits in the start room, so an agent that never leaves it is often next to it; the
    # switching and in-view fractions are reported beside the adjacency measure.
    return {
        f"rnd_more_{metric}_than_as": claim(metric, "rnd", ("as",))
        for metric in ("tv_adjacent_fraction", "tv_switch_fraction", "tv_in_view_fraction")
    }


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
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="train nothing: summarise the runs of these earlier result files (one setting)",
    )
    args = parser.parse_args(argv)

    family = FAMILIES[args.family]
    params = parse_params(args.param, family["params"])
    name = f"adversarial_surprise_{args.family}" + (f"_{args.tag}" if args.tag else "")
    command = (
        " ".join(["python", "benchmarks/bench_adversarial_surprise.py", *sys.argv[1:]])
        if argv is None
        else " ".join(argv)
    )
    header = {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "env_id": family["env_id"],
        "env_params": params,
        "episode_length": EPISODE_LENGTH,
        "n_envs": N_ENVS,
        "steps": args.steps,
        "eval_episodes": args.eval_episodes,
        "eval_seed": EVAL_SEED,
    }
    began = time.perf_counter()
    runs: list[dict[str, Any]] = []
    if args.merge:
        header, runs = merge_results(args.merge, args.family, header)
    else:
        jobs = [(method, seed) for seed in args.seeds for method in args.methods]
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
            for future in as_completed(futures):
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
                # Every finished run is on disk at once: a crash loses only the runs in flight.
                write_results(header, runs, args.family, args.out / name, began)
    order = {method: k for k, method in enumerate(METHODS)}
    runs.sort(key=lambda run: (order[run["method"]], run["seed"]))
    summary = write_results(header, runs, args.family, args.out / name, began)
    for method, entry in summary["summary"].items():
        print(
            f"{LABELS[method]:>20}: "
            + ", ".join(
                f"{metric} {s['mean']:.3f} ± {s['std']:.3f}" for metric, s in entry["eval"].items()
            )
        )
    print("claims:", json.dumps(summary["claims"], indent=1))
    print(f"wrote {args.out / name}.json and .png")


def write_results(
    header: dict[str, Any], runs: list[dict[str, Any]], family: str, stem: Path, began: float
) -> dict[str, Any]:
    """Write ``stem``.json (header, claims, summary, runs) and ``stem``.png; return the JSON."""
    metrics = FAMILIES[family]["metrics"]
    summary = summarise(runs, metrics)
    result = {
        **header,
        "wall_minutes": (time.perf_counter() - began) / 60,
        "claims": check_claims(runs, summary, family),
        "summary": summary,
        "runs": runs,
    }
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    plot(runs, summary, metrics, stem.with_suffix(".png"))
    return result


def merge_results(
    paths: list[Path], family: str, header: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The runs of earlier result files, which must share the env, params and budget."""
    runs: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    first: dict[str, Any] | None = None
    keys = (
        "env_id",
        "env_params",
        "episode_length",
        "n_envs",
        "steps",
        "eval_episodes",
        "eval_seed",
    )
    for path in paths:
        try:
            result = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise SystemExit(f"--merge: cannot read {path}: {error}") from error
        if result.get("env_id") != FAMILIES[family]["env_id"]:
            raise SystemExit(
                f"--merge: {path} is for {result.get('env_id')!r}, not the {family!r} family's "
                f"{FAMILIES[family]['env_id']!r}"
            )
        if first is None:
            first = result
        for key in keys:
            if result.get(key) != first.get(key):
                raise SystemExit(
                    f"--merge: {path} has {key}={result.get(key)!r} but {paths[0]} has "
                    f"{first.get(key)!r}; only runs of one setting can be merged"
                )
        for run in result["runs"]:
            if (run["method"], run["seed"]) in seen:
                raise SystemExit(f"--merge: {run['method']} seed {run['seed']} appears twice")
            seen.add((run["method"], run["seed"]))
            runs.append(run)
    assert first is not None
    merged = {key: first[key] for key in keys}
    merged.update(
        command=header["command"],
        date=header["date"],
        machine=first.get("machine", header["machine"]),
        merged_from=[str(path) for path in paths],
    )
    return merged, runs


if __name__ == "__main__":
    main()
