"""What several commands share: the usage error, argument types, ``KEY=VALUE`` options, the env
arguments of ``play`` and ``render``, ``--import``, output-path checks and the evaluation line."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "Handler",
    "UsageError",
    "add_env_arguments",
    "add_import_option",
    "add_key_value_option",
    "check_output_path",
    "env_arguments",
    "import_user_modules",
    "int_at_least",
    "name_value",
    "non_negative_int",
    "positive_int",
    "print_evaluation",
]

#: A command's ``run(args)``: returns the exit code.
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad command-line input, reported as ``<prog>: error: <message>`` with exit code 2."""


# ---------------------------------------------------------------------------------- argument types
def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` reading an integer ≥ ``minimum`` (argparse reports its message)."""
    what = {0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer ≥ {minimum}"
    )

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}; got {value}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def name_value(text: str) -> tuple[str, str]:
    """Parse ``NAME=VALUE`` (both non-empty)."""
    name, equals, value = text.partition("=")
    if not (equals and name.strip() and value.strip()):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE; got {text!r}")
    return name.strip(), value.strip()


def _name_json_value(text: str) -> tuple[str, Any]:
    name, raw = name_value(text)
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def add_key_value_option(
    parser: argparse.ArgumentParser,
    option: str,
    dest: str,
    help_text: str,
    default: list[Any] | None = None,
) -> None:
    """A repeatable ``KEY=VALUE`` option (VALUE parsed as JSON when it can be); ``dest`` gets a
    list of ``(key, value)`` pairs."""
    parser.add_argument(
        option,
        dest=dest,
        action="append",
        type=_name_json_value,
        default=default,
        metavar="KEY=VALUE",
        help=help_text,
    )


# ---------------------------------------------------------------------------------- env arguments
def add_env_arguments(parser: argparse.ArgumentParser) -> None:
    """``ENV``, ``--param NAME=VALUE`` and ``--env-kwarg KEY=VALUE`` (``play``, ``render``)."""
    parser.add_argument("env", metavar="ENV", help="env id, e.g. teachgym/GridNavigation-v0")
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        type=name_value,
        default=[],
        metavar="NAME=VALUE",
        help="an episode parameter (unset ones take the env's defaults); repeatable",
    )
    add_key_value_option(
        parser,
        "--env-kwarg",
        "env_kwargs",
        "a constructor option, VALUE parsed as JSON when it can be (e.g. walker=short); repeatable",
        default=[],
    )


def env_arguments(
    args: argparse.Namespace,
) -> tuple[str, dict[str, float] | None, dict[str, Any]]:
    """The env id, episode params (``None`` when none were given) and constructor options.

    Raises:
        UsageError: an unknown env id or a non-numeric ``--param``.
    """
    import gymnasium

    from teachgym.envs.factory import register_ids

    try:
        register_ids(args.env)  # teachgym's ids, and MiniGrid's or ALE's when the id needs them
    except ImportError as error:
        raise UsageError(str(error)) from None
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


# ---------------------------------------------------------------------------------- --import
def add_import_option(parser: argparse.ArgumentParser) -> None:
    """``--import MODULE`` (repeatable; ``dest="imports"``). ``train`` has its own, generated
    from ``TrainConfig.imports``."""
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module to import first, e.g. one that registers your teachers: a module name "
        "(found on the Python path or in the current directory) or a path to a .py file; "
        "repeatable",
    )


def import_user_modules(entries: list[str]) -> list[str]:
    """Import the ``--import`` modules; returns them resolved (absolute paths for files and for
    modules of the current directory, see ``teachgym.training.config.resolve_imports``).

    Raises:
        UsageError: a module that cannot be found or fails to import, named with the reason.
    """
    from teachgym.training.config import resolve_imports  # light: NumPy only

    try:
        return resolve_imports(entries)
    except ValueError as error:
        raise UsageError(str(error).replace("imports: ", "--import: ", 1)) from None


# ---------------------------------------------------------------------------------- output
def check_output_path(path: Path, option: str) -> None:
    """Fail before a long run, not after it, if the results cannot be written."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot create {path.parent}: {error}") from None
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{option} {path}: directory {path.parent} is not writable")


def print_evaluation(result: Any) -> None:
    """One line: % of the test set mastered and the mean return (an ``EvalResult``)."""
    mastered = int(result.mastered.sum())
    print(
        f"Test set ({result.kind}, {len(result.tasks)} tasks) of {result.env_id}: "
        f"{result.mastered_pct:.1f}% mastered ({mastered}/{len(result.tasks)} with return > "
        f"{result.mastery_threshold:g}), mean return {result.mean_return:.3f}"
    )
