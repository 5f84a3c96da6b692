"""The ``teachgym`` command line.

::

    teachgym list                                  registered teachers and envs
    teachgym bench toy [--teachers NAME ...] ...   the toy testbed (Portelas et al. 2019, §4)
    teachgym play ENV [--param NAME=VALUE ...]     drive a grid env with the keyboard
    teachgym render ENV [--param ...] --out F.gif  record an episode of any env
    teachgym train ENV [--teacher NAME] [--algo NAME] ...   train a student in a curriculum
    teachgym train --resume RUN_DIR [--steps N]    continue a run from its last checkpoint
    teachgym eval RUN_DIR | --model F.zip --env ID  % of the env's test set mastered

Each command is a sub-parser with a ``handler``; later commands (train, eval, play, render)
add an ``_add_<command>_parser`` function and one line in ``build_parser``. Bad input is
reported as ``teachgym ...: error: ...`` on stderr with exit code 2 (argparse's convention),
never as a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from teachgym import __version__, state_io

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad command-line input, reported as ``<prog>: error: <message>`` with exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``teachgym`` command line.

    Args:
        argv: Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns:
        The exit code: 0 on success, 2 on bad input.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse's own errors (already printed) and --help
        return exit_.code if isinstance(exit_.code, int) else 2
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.handler(args))
    except UsageError as error:
        print(f"{args.prog}: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The ``teachgym`` argument parser with all its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="teachgym",
        description="Curriculum RL: parameterized envs, ALP-GMM and peer teachers, students.",
    )
    parser.add_argument("--version", action="version", version=f"teachgym {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_list_parser(commands)
    _add_bench_parser(commands)
    _add_play_parser(commands)
    _add_render_parser(commands)
    _add_train_parser(commands)
    _add_eval_parser(commands)
    return parser


# ---------------------------------------------------------------------------------- list
def _add_list_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "list",
        help="list registered teachers and envs",
        description="List registered teachers (teachgym.teachers.make) and envs (gymnasium.make).",
    )
    parser.set_defaults(handler=_run_list, prog=parser.prog)


def _run_list(args: argparse.Namespace) -> int:
    import gymnasium

    import teachgym.envs  # noqa: F401  (registers the teachgym/ env ids)
    from teachgym import teachers

    names = teachers.available()
    width = max(len(name) for name in names)
    print("Teachers (teachgym.teachers.make):")
    for name in names:
        cls = teachers.get_class(name)
        summary = inspect.cleandoc(cls.__doc__ or "").splitlines()  # own docstring only
        line = f"  {name:<{width}}  {cls.__name__}"
        print(f"{line} — {summary[0]}" if summary else line)
    print()
    print("Envs (gymnasium.make):")
    env_ids = sorted(env_id for env_id in gymnasium.registry if env_id.startswith("teachgym/"))
    for env_id in env_ids:
        print(f"  {env_id}")
    if not env_ids:
        print("  (none registered yet)")
    return 0


# ---------------------------------------------------------------------------------- bench
def _add_bench_parser(commands: Any) -> None:
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
        help=f"teachers to compare (default: {' '.join(DEFAULT_TEACHERS)})",
    )
    toy.add_argument(
        "--seeds", type=_positive_int, default=5, help="seeds per teacher (default: 5)"
    )
    toy.add_argument(
        "--episodes", type=_positive_int, default=20000, help="episodes per run (default: 20000)"
    )
    toy.add_argument(
        "--dims", type=_positive_int, default=2, help="relevant dimensions (default: 2)"
    )
    toy.add_argument(
        "--cells", type=_positive_int, default=10, help="cells per dimension (default: 10)"
    )
    toy.add_argument(
        "--useless-dims",
        type=_non_negative_int,
        default=0,
        help="extra dimensions the student ignores (default: 0)",
    )
    toy.add_argument(
        "--checkpoint-every",
        type=_positive_int,
        default=1000,
        metavar="EPISODES",
        help="episodes between two mastery measurements (default: 1000)",
    )
    toy.add_argument("--jobs", type=_positive_int, default=1, help="worker processes (default: 1)")
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
    toy.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    toy.set_defaults(handler=_run_bench_toy, prog=toy.prog)


def _run_bench_toy(args: argparse.Namespace) -> int:
    from teachgym.bench.toy import DEFAULT_TEACHERS, ToyBenchConfig, bench_toy

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
        _check_output_path(args.json)

    results = bench_toy(config, progress=not args.no_progress)

    if args.json is not None:
        state_io.write_json_atomically(args.json, results)
    _print_toy_table(results)
    if args.json is not None:
        print(f"Results written to {args.json}")
    return 0


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


# ---------------------------------------------------------------------------------- play
def _add_env_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", help="env id, e.g. teachgym/GridNavigation-v0")
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        type=_name_value,
        default=[],
        metavar="NAME=VALUE",
        help="an episode parameter (unset ones take the env's defaults); repeatable",
    )
    _add_key_value_option(
        parser,
        "--env-kwarg",
        "env_kwargs",
        "a constructor option, VALUE parsed as JSON when it can be (e.g. walker=short); repeatable",
        default=[],
    )


def _add_play_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "play",
        help="drive a grid env with the keyboard",
        description=(
            "Open a pygame window and drive a MiniGrid-based env: arrows turn and move, space "
            "toggles, tab picks up, shift drops, enter is 'done', backspace restarts, escape quits."
        ),
    )
    _add_env_arguments(parser)
    parser.add_argument("--seed", type=_non_negative_int, help="seed of every episode's layout")
    parser.set_defaults(handler=_run_play, prog=parser.prog)


def _run_play(args: argparse.Namespace) -> int:
    from teachgym.envs.viewing import GridPlayer

    env_id, params, env_kwargs = _env_arguments(args)
    try:
        player = GridPlayer(env_id, params, seed=args.seed, env_kwargs=env_kwargs)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    player.start()
    return 0


# ---------------------------------------------------------------------------------- render
def _add_render_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "render",
        help="record an episode of any env as a GIF",
        description="Play one episode with random or given actions and write it as a GIF.",
    )
    _add_env_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.gif", help="output GIF")
    parser.add_argument(
        "--actions",
        metavar="JSON",
        help="the actions as a JSON list (e.g. '[2,2,1]' or '[[0.1,0,0,0]]') or a path to a "
        ".json file holding one; default: random actions",
    )
    parser.add_argument(
        "--steps", type=_positive_int, default=500, help="at most this many steps (default: 500)"
    )
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed (default: 0)")
    parser.add_argument(
        "--fps", type=_positive_int, default=30, help="GIF frame rate (default: 30)"
    )
    parser.set_defaults(handler=_run_render, prog=parser.prog)


def _run_render(args: argparse.Namespace) -> int:
    from teachgym.envs.viewing import record_episode, save_gif

    env_id, params, env_kwargs = _env_arguments(args)
    if args.out.suffix.lower() != ".gif" or args.out.is_dir():
        raise UsageError(f"--out must be a .gif file path; got {str(args.out)!r}")
    _check_output_path(args.out, "--out")
    actions = None if args.actions is None else _load_actions(args.actions)
    try:
        frames, episode_return = record_episode(
            env_id,
            params,
            actions=actions,
            max_steps=args.steps,
            seed=args.seed,
            env_kwargs=env_kwargs,
        )
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    save_gif(frames, args.out, fps=args.fps)
    print(f"{len(frames) - 1} steps, return {episode_return:.2f}; wrote {args.out}")
    return 0


def _env_arguments(
    args: argparse.Namespace,
) -> tuple[str, dict[str, float] | None, dict[str, Any]]:
    import gymnasium

    import teachgym.envs  # noqa: F401  (registers the teachgym/ env ids)
    from teachgym.envs.viewing import register_known_envs

    register_known_envs()
    if ":" not in args.env and args.env not in gymnasium.registry:
        known = sorted(env_id for env_id in gymnasium.registry if env_id.startswith("teachgym/"))
        raise UsageError(f"unknown env {args.env!r}; teachgym envs: {', '.join(known)}")
    params: dict[str, float] = {}
    for name, raw in args.params:
        try:
            params[name] = float(raw)
        except ValueError:
            raise UsageError(f"--param {name}={raw}: expected a number") from None
    return args.env, params or None, dict(args.env_kwargs)


def _load_actions(text: str) -> list[Any]:
    path = Path(text)
    source = path.read_text() if path.suffix == ".json" and path.is_file() else text
    try:
        actions = json.loads(source)
    except json.JSONDecodeError as error:
        raise UsageError(f"--actions: not a JSON list or .json file ({error}): {text!r}") from None
    if not isinstance(actions, list):
        raise UsageError(f"--actions: expected a JSON list of actions; got {actions!r}")
    return actions


# ---------------------------------------------------------------------------------- train
# (option, TrainConfig field) for every option that sets a config field; --resume accepts only
# _RESUME_OVERRIDES, because a resumed run keeps the configuration it was started with.
_TRAIN_OPTIONS: tuple[tuple[str, str], ...] = (
    ("--algo", "algorithm"),
    ("--algo-kwarg", "algorithm_kwargs"),
    ("--policy", "policy"),
    ("--env-kwarg", "env_kwargs"),
    ("--obs", "obs_wrapper"),
    ("--teacher", "teacher"),
    ("--teacher-kwarg", "teacher_kwargs"),
    ("--n-envs", "n_envs"),
    ("--vec-env", "vec_env"),
    ("--steps", "total_timesteps"),
    ("--device", "device"),
    ("--seed", "seed"),
    ("--eval-interval", "eval_interval"),
    ("--eval-episodes", "eval_episodes"),
    ("--eval-kind", "eval_kind"),
    ("--no-mastery-map", "mastery_map"),
    ("--checkpoint-interval", "checkpoint_interval"),
    ("--keep-checkpoints", "keep_checkpoints"),
    ("--no-replay-buffer", "save_replay_buffer"),
    ("--out", "run_dir"),
    ("--import", "imports"),
    ("--torch-threads", "torch_threads"),
    ("--verbose", "verbose"),
)
_RESUME_OVERRIDES = ("total_timesteps", "device", "torch_threads")


def _add_train_parser(commands: Any) -> None:
    from teachgym.training.config import EVAL_KINDS, VEC_ENV_CHOICES, TrainConfig, field_help

    defaults = TrainConfig(env_id="-")

    def described(field: str, extra: str = "") -> str:
        default = getattr(defaults, field)
        shown = "" if default in ({}, [], None) else f" (default: {default})"
        # argparse %-formats help strings.
        return (field_help(field) + extra + shown).replace("``", "").replace("%", "%%")

    parser = commands.add_parser(
        "train",
        help="train a student (any stable-baselines3 algorithm) in a teacher's curriculum",
        description=(
            "Train a stable-baselines3 student on a parameterized env while a teacher picks each "
            "episode's parameters. Writes a run folder: config.json, command.txt, TensorBoard "
            "logs, checkpoints, eval.csv, the final model and plots. Example: teachgym train "
            "teachgym/GridNavigation-v0 --teacher alp-gmm --steps 200000 --out runs/nav"
        ),
    )
    parser.add_argument(
        "env", nargs="?", metavar="ENV", help="env id, e.g. teachgym/GridNavigation-v0"
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue RUN_DIR from its last complete checkpoint (teacher history and step "
        "counter intact); only --steps, --device and --torch-threads may change",
    )
    value_options = (
        ("--algo", "algorithm", str, "NAME"),
        ("--policy", "policy", str, "NAME"),
        ("--obs", "obs_wrapper", str, "WRAPPER"),
        ("--teacher", "teacher", str, "NAME"),
        ("--n-envs", "n_envs", _positive_int, "N"),
        ("--steps", "total_timesteps", _positive_int, "N"),
        ("--device", "device", str, "DEVICE"),
        ("--seed", "seed", _non_negative_int, "SEED"),
        ("--eval-interval", "eval_interval", _non_negative_int, "STEPS"),
        ("--eval-episodes", "eval_episodes", _non_negative_int, "N"),
        ("--checkpoint-interval", "checkpoint_interval", _non_negative_int, "STEPS"),
        ("--keep-checkpoints", "keep_checkpoints", _positive_int, "N"),
        ("--out", "run_dir", str, "RUN_DIR"),
        ("--torch-threads", "torch_threads", _positive_int, "N"),
        ("--verbose", "verbose", _non_negative_int, "LEVEL"),
    )
    for option, field, kind, metavar in value_options:
        parser.add_argument(option, dest=field, type=kind, metavar=metavar, help=described(field))
    parser.add_argument(
        "--vec-env", dest="vec_env", choices=VEC_ENV_CHOICES, help=described("vec_env")
    )
    parser.add_argument(
        "--eval-kind", dest="eval_kind", choices=EVAL_KINDS, help=described("eval_kind")
    )
    for option, field in (
        ("--algo-kwarg", "algorithm_kwargs"),
        ("--env-kwarg", "env_kwargs"),
        ("--teacher-kwarg", "teacher_kwargs"),
    ):
        _add_key_value_option(
            parser,
            option,
            field,
            described(field, " VALUE is parsed as JSON when it can be; repeatable."),
        )
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        metavar="MODULE",
        help=described("imports", " Repeatable."),
    )
    parser.add_argument(
        "--no-mastery-map",
        dest="mastery_map",
        action="store_const",
        const=False,
        help="skip the final 10 × 10 grid evaluation and mastery map of 2-D spaces",
    )
    parser.add_argument(
        "--no-replay-buffer",
        dest="save_replay_buffer",
        action="store_const",
        const=False,
        help="leave off-policy replay buffers out of checkpoints (smaller; a resumed run "
        "starts with an empty buffer)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=_run_train, prog=parser.prog)


def _run_train(args: argparse.Namespace) -> int:
    from teachgym.training import TrainConfig, Trainer

    values: dict[str, Any] = {}
    for _, field in _TRAIN_OPTIONS:
        value = getattr(args, field)
        if value is None:
            continue
        values[field] = dict(value) if field.endswith("_kwargs") else value
    command = shlex.join(["teachgym", *args.argv])
    try:
        if args.resume is not None:
            fixed = [
                option
                for option, field in _TRAIN_OPTIONS
                if field in values and field not in _RESUME_OVERRIDES
            ]
            if args.env is not None:
                fixed.insert(0, "ENV")
            if fixed:
                raise UsageError(
                    f"--resume continues a run with its saved config; {', '.join(fixed)} cannot "
                    "be changed (only --steps, --device and --torch-threads can)"
                )
            trainer = Trainer.resume(
                args.resume,
                total_timesteps=values.get("total_timesteps"),
                device=values.get("device"),
                torch_threads=values.get("torch_threads"),
                command=command,
                progress=not args.no_progress,
            )
            checkpoint = trainer.resumed_from
            assert checkpoint is not None
            print(
                f"Resuming {trainer.run.path} from {checkpoint.path.name}: step "
                f"{trainer.num_timesteps:,}, {trainer.teacher.n_updates:,} teacher updates"
            )
        else:
            if args.env is None:
                raise UsageError("give the ENV id to train on, or --resume RUN_DIR")
            config = TrainConfig(env_id=args.env, **values)
            trainer = Trainer.new(config, command=command, progress=not args.no_progress)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        result = trainer.learn()
    finally:
        trainer.close()
    print(
        f"Trained {result.num_timesteps:,} steps, {result.episodes:,} episodes; "
        f"run folder: {result.run_dir}"
    )
    if result.evaluation is not None:
        _print_evaluation(result.evaluation)
    return 0


# ---------------------------------------------------------------------------------- eval
def _add_eval_parser(commands: Any) -> None:
    from teachgym.training.config import EVAL_KINDS

    parser = commands.add_parser(
        "eval",
        help="%% of an env's fixed test set a trained policy masters",
        description=(
            "Run the deterministic policy on the env's fixed test set (teachgym.envs.test_set) "
            "and report the %% of tasks mastered (return above the env's mastery threshold), "
            "writing per-task returns as CSV and JSON. Give a run folder, or --model and --env."
        ),
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="a run folder")
    parser.add_argument("--model", type=Path, metavar="FILE.zip", help="a saved SB3 model")
    parser.add_argument("--env", metavar="ENV", help="env id of --model")
    parser.add_argument("--algo", metavar="NAME", help="algorithm of --model (default: ppo)")
    _add_key_value_option(
        parser,
        "--env-kwarg",
        "env_kwargs",
        "constructor option of --env (as in training); repeatable",
        default=[],
    )
    parser.add_argument(
        "--obs", dest="obs_wrapper", metavar="WRAPPER", help="observation wrapper of --model"
    )
    parser.add_argument(
        "--import", dest="imports", action="append", default=[], metavar="MODULE",
        help="module to import first (your envs); repeatable",
    )  # fmt: skip
    parser.add_argument(
        "--checkpoint",
        choices=("final", "latest"),
        default="final",
        help="RUN_DIR's final model (default) or its newest checkpoint",
    )
    parser.add_argument(
        "--kind", choices=EVAL_KINDS, help="test set: uniform (50 draws) or grid (10 × 10, 2-D)"
    )
    parser.add_argument("--episodes", type=_positive_int, help="episodes per task (default: 1)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where the per-task returns go (.csv or .json); default: RUN_DIR/eval_<checkpoint>"
        "_<kind>.csv and .json, or beside --model",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=_run_eval, prog=parser.prog)


def _run_eval(args: argparse.Namespace) -> int:
    from teachgym.agents.sb3 import load_model
    from teachgym.training.evaluation import evaluate, evaluate_run

    if args.out is not None and args.out.suffix.lower() not in (".csv", ".json"):
        raise UsageError(f"--out must end in .csv or .json; got {str(args.out)!r}")
    progress = not args.no_progress
    try:
        if args.run_dir is not None:
            extra = [
                option
                for option, value in (
                    ("--model", args.model), ("--env", args.env), ("--algo", args.algo),
                    ("--env-kwarg", args.env_kwargs), ("--obs", args.obs_wrapper),
                    ("--import", args.imports),
                )
                if value
            ]  # fmt: skip
            if extra:
                raise UsageError(
                    f"RUN_DIR has its own model and env; drop {', '.join(extra)} (or drop RUN_DIR)"
                )
            result = evaluate_run(
                args.run_dir,
                checkpoint=args.checkpoint,
                kind=args.kind,
                episodes=args.episodes,
                device=args.device,
                progress=progress,
            )
            stem = args.run_dir / f"eval_{args.checkpoint}_{result.kind}"
        else:
            if args.model is None or args.env is None:
                raise UsageError("give a RUN_DIR, or both --model FILE.zip and --env ENV")
            model = load_model(str(args.model), args.algo or "ppo", device=args.device)
            result = evaluate(
                model,
                args.env,
                env_kwargs=dict(args.env_kwargs),
                obs_wrapper=args.obs_wrapper or "auto",
                kind=args.kind or "uniform",
                episodes=args.episodes or 1,
                imports=args.imports,
                progress=progress,
            )
            stem = args.model.with_name(f"{args.model.stem}_eval_{result.kind}")
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
    if args.out is None:
        written = [stem.with_suffix(".csv"), stem.with_suffix(".json")]
    else:
        _check_output_path(args.out, "--out")
        written = [args.out]
    for path in written:
        if path.suffix.lower() == ".csv":
            result.write_csv(path)
        else:
            result.write_json(path)
    _print_evaluation(result)
    print(f"Per-task returns written to {', '.join(str(path) for path in written)}")
    return 0


def _print_evaluation(result: Any) -> None:
    mastered = int(result.mastered.sum())
    print(
        f"Test set ({result.kind}, {len(result.tasks)} tasks) of {result.env_id}: "
        f"{result.mastered_pct:.1f}% mastered ({mastered}/{len(result.tasks)} with return > "
        f"{result.mastery_threshold:g}), mean return {result.mean_return:.3f}"
    )


# ---------------------------------------------------------------------------------- helpers
def _positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def _non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "a non-negative integer")


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}; got {value}")
    return value


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


def _name_value(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not (equals and name.strip() and value.strip()):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    return name.strip(), value.strip()


def _add_key_value_option(
    parser: argparse.ArgumentParser,
    option: str,
    dest: str,
    help_text: str,
    default: list[Any] | None = None,
) -> None:
    """A repeatable ``KEY=VALUE`` option (VALUE parsed as JSON when it can be)."""
    parser.add_argument(
        option,
        dest=dest,
        action="append",
        type=_name_value_json,
        default=default,
        metavar="KEY=VALUE",
        help=help_text,
    )


def _name_value_json(text: str) -> tuple[str, Any]:
    name, raw = _name_value(text)
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def _check_output_path(path: Path, option: str = "--json") -> None:
    """Fail before a long run, not after it, if the results cannot be written."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot create {path.parent}: {error}") from None
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{option} {path}: directory {path.parent} is not writable")
