"""``teachgym bench toy``: teachers compared on the toy student of Portelas et al. 2019 (§4)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from teachgym import state_io
from teachgym.cli._common import (
    UsageError,
    add_import_option,
    check_output_path,
    import_user_modules,
    non_negative_int,
    positive_int,
)

__all__ = ["add_parser", "run_toy"]


def add_parser(commands: Any) -> None:
    """Add ``bench`` and its benchmarks to the sub-parsers ``commands``."""
    from teachgym.bench.toy import DEFAULT_TEACHERS

    bench = commands.add_parser(
        "bench", help="run a benchmark", description="Benchmarks that compare teachers."
    )
    benchmarks = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    toy = benchmarks.add_parser(
        "toy",
        help="the toy grid student of Portelas et al. 2019 (§4)",
        description=(
            "Compare teachers on the simulated toy student: % of grid cells mastered over "
            "episodes, mean ± std over seeds, and each teacher's CPU time."
        ),
    )
    toy.add_argument(
        "--teachers",
        nargs="+",
        action="extend",
        metavar="NAME",
        help=f"teachers to compare, your own (see --import) included (default: "
        f"{' '.join(DEFAULT_TEACHERS)})",
    )
    toy.add_argument("--seeds", type=positive_int, default=5, help="seeds per teacher (default: 5)")
    toy.add_argument(
        "--episodes", type=positive_int, default=20000, help="episodes per run (default: 20000)"
    )
    toy.add_argument(
        "--dims", type=positive_int, default=2, help="relevant dimensions (default: 2)"
    )
    toy.add_argument(
        "--cells", type=positive_int, default=10, help="cells per dimension (default: 10)"
    )
    toy.add_argument(
        "--useless-dims",
        type=non_negative_int,
        default=0,
        help="extra dimensions the student ignores (default: 0)",
    )
    toy.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=1000,
        metavar="EPISODES",
        help="episodes between two mastery measurements (default: 1000)",
    )
    toy.add_argument("--jobs", type=positive_int, default=1, help="worker processes (default: 1)")
    toy.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    toy.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_teacher_setting,
        default=[],
        metavar="TEACHER.KEY=VALUE",
        help="a teacher hyperparameter, VALUE parsed as JSON when it can be "
        "(e.g. alp-gmm.fit_rate=100); repeatable",
    )
    add_import_option(toy)
    toy.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    toy.set_defaults(handler=run_toy, prog=toy.prog)


def run_toy(args: argparse.Namespace) -> int:
    """Run the toy benchmark, print its table and write the JSON asked for."""
    from teachgym.bench.toy import DEFAULT_TEACHERS, ToyBenchConfig, bench_toy

    import_user_modules(args.imports)  # their teachers count in --teachers and --set
    teacher_kwargs: dict[str, dict[str, Any]] = {}
    for teacher, key, value in args.settings:
        teacher_kwargs.setdefault(teacher, {})[key] = value
    try:
        config = ToyBenchConfig(
            teachers=list(args.teachers or DEFAULT_TEACHERS),
            seeds=args.seeds,
            episodes=args.episodes,
            nb_dims=args.dims,
            cells=args.cells,
            useless_dims=args.useless_dims,
            checkpoint_every=args.checkpoint_every,
            jobs=args.jobs,
            teacher_kwargs=teacher_kwargs,
        )
        config.check()
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.json is not None:
        check_output_path(args.json, "--json")

    results = bench_toy(config, progress=not args.no_progress)

    if args.json is not None:
        state_io.write_json_atomically(args.json, results)
    _print_toy_table(results)
    if args.json is not None:
        print(f"Results written to {args.json}")
    return 0


def _teacher_setting(text: str) -> tuple[str, str, Any]:
    """Parse ``TEACHER.KEY=VALUE``; VALUE is JSON when it parses (numbers, lists, true/null)."""
    target, equals, raw_value = text.partition("=")
    # Hyperparameter names are identifiers, so the last dot separates teacher and key.
    teacher, dot, key = target.rpartition(".")
    if not (equals and dot and teacher and key.isidentifier()):
        raise argparse.ArgumentTypeError(
            f"expected TEACHER.KEY=VALUE (e.g. alp-gmm.fit_rate=100); got {text!r}"
        )
    try:
        value = json.loads(raw_value)
    except json.JSONDecodeError:
        value = raw_value
    return teacher, key, value


def _print_toy_table(results: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    config = results["config"]
    names = list(results["results"])
    checkpoints = results["results"][names[0]]["checkpoints"]
    grid = f"{config['nb_dims']}-D × {config['cells']} cells" + (
        f" + {config['useless_dims']} useless dims" if config["useless_dims"] else ""
    )
    seeds = config["seeds"]
    heading = f"Toy student ({grid}): % cells mastered, mean ± std over {seeds} seed(s)"
    table = Table()
    table.add_column("episodes", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for row in _table_rows(len(checkpoints)):
        cells = [f"{checkpoints[row]:,}"]
        for name in names:
            values = [per_seed[row] for per_seed in results["results"][name]["mastered"]]
            mean, std = _mean_std(values)
            cells.append(f"{mean:.1f} ± {std:.1f}")
        table.add_row(*cells)
    table.add_section()
    table.add_row(
        "CPU s / 1k ep.",
        *(f"{results['results'][name]['teacher_cpu_s_per_1k']:.3f}" for name in names),
    )
    console = Console(file=sys.stdout)
    console.print(heading, soft_wrap=True)
    console.print(table)


def _table_rows(n_checkpoints: int, max_rows: int = 11) -> list[int]:
    """Every k-th checkpoint index (k chosen so at most ``max_rows`` rows) plus the last."""
    stride = max(1, math.ceil((n_checkpoints - 1) / (max_rows - 1)))
    rows = list(range(0, n_checkpoints, stride))
    if rows[-1] != n_checkpoints - 1:
        rows.append(n_checkpoints - 1)
    return rows


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single seed)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((value - mean) ** 2 for value in values) / (len(values) - 1)
    return mean, math.sqrt(variance)
