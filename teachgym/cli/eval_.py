"""``teachgym eval``: % of an env's fixed test set that a trained policy masters."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from teachgym.cli._common import (
    UsageError,
    add_key_value_option,
    check_output_path,
    positive_int,
    print_evaluation,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add ``eval`` to the sub-parsers ``commands``."""
    from teachgym.training.config import EVAL_KINDS, VEC_ENV_CHOICES

    parser = commands.add_parser(
        "eval",
        help="%% of an env's fixed test set a trained policy masters",
        # argparse expands "%" in help strings (hence "%%" above), not in descriptions.
        description=(
            "Run the deterministic policy on the env's fixed test set (teachgym.envs.test_set) "
            "and report the % of tasks mastered (return above the env's mastery threshold), "
            "writing per-task returns as CSV and JSON. Give a run folder, or --model and --env. "
            "The episodes run on a vector env of --n-envs sub-envs."
        ),
    )
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="a run folder")
    parser.add_argument("--model", type=Path, metavar="FILE.zip", help="a saved SB3 model")
    parser.add_argument("--env", metavar="ENV", help="env id of --model")
    parser.add_argument("--algo", metavar="NAME", help="algorithm of --model (default: ppo)")
    add_key_value_option(
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
    parser.add_argument("--episodes", type=positive_int, help="episodes per task (default: 1)")
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--n-envs",
        type=positive_int,
        metavar="N",
        help=f"sub-envs playing episodes at once (default: one per CPU core, {cores} here)",
    )
    parser.add_argument(
        "--vec-env",
        choices=VEC_ENV_CHOICES,
        default="subproc",
        help="subproc: each sub-env in its own process (default); dummy: all in this process, "
        "faster for cheap envs on a machine with few free cores (same returns)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where the per-task returns go (.csv or .json); default: RUN_DIR/eval_<model>_<kind>"
        ".csv and .json (<model>: final, or the checkpoint's step_… folder, the names training "
        "uses), or beside --model",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Evaluate a run folder's model (or a model file), print the result and write it."""
    from teachgym.agents.sb3 import load_model
    from teachgym.training.evaluation import evaluate, evaluate_run
    from teachgym.training.runs import RunDir

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
                n_envs=args.n_envs,
                vec_env=args.vec_env,
                progress=progress,
            )
            run = RunDir(args.run_dir)
            model_name, _ = run.model_to_evaluate(args.checkpoint)
            default_paths = run.eval_files(model_name, result.kind)
        else:
            if args.model is None or args.env is None:
                raise UsageError("give a RUN_DIR, or both --model FILE.zip and --env ENV")
            model, obs_wrapper = _load_model_file(args, load_model)
            result = evaluate(
                model,
                args.env,
                env_kwargs=dict(args.env_kwargs),
                obs_wrapper=obs_wrapper,
                kind=args.kind or "uniform",
                episodes=args.episodes or 1,
                n_envs=args.n_envs,
                vec_env=args.vec_env,
                imports=args.imports,
                progress=progress,
            )
            stem = args.model.with_name(f"{args.model.stem}_eval_{result.kind}")
            default_paths = (stem.with_suffix(".csv"), stem.with_suffix(".json"))
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
    if args.out is None:
        written = list(default_paths)
    else:
        check_output_path(args.out, "--out")
        written = [args.out]
    for path in written:
        if path.suffix.lower() == ".csv":
            result.write_csv(path)
        else:
            result.write_json(path)
    print_evaluation(result)
    print(f"Per-task returns written to {', '.join(str(path) for path in written)}")
    return 0


def _load_model_file(args: argparse.Namespace, load_model: Any) -> tuple[Any, str]:
    """``--model``'s model and the observation wrapper it reads: a ``BatchedPPO`` save (the
    batched backend's ``model.zip``, recognised by its content) reads MiniGrid's own ``Dict``
    (``none``); anything else is loaded as the stable-baselines3 ``--algo``."""
    from teachgym.agents.ppo import BatchedPPO
    from teachgym.agents.sb3 import resolve_device

    try:
        model = BatchedPPO.load(args.model, device=resolve_device(args.device))
    except ValueError:  # not a BatchedPPO file: an SB3 one (or an error SB3 explains)
        return load_model(str(args.model), args.algo or "ppo", device=args.device), (
            args.obs_wrapper or "auto"
        )
    if args.obs_wrapper not in (None, "none"):
        raise UsageError(
            f"{args.model} is a batched-backend PPO, which reads MiniGrid's own observations; "
            f"drop --obs {args.obs_wrapper}"
        )
    return model, "none"
