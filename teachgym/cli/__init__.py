"""The ``teachgym`` command line.

::

    teachgym list                                  registered teachers and envs
    teachgym bench toy [--teachers NAME ...] ...   the toy testbed (Portelas et al. 2019, §4)
    teachgym play ENV [--param NAME=VALUE ...]     drive a grid env with the keyboard
    teachgym render ENV|RUN_DIR [--param ...|--task N] --out F.gif | --human
                                                   watch an env or a run's policy (alias: enjoy)
    teachgym train ENV [--teacher NAME] [--algo NAME] ...   train a student in a curriculum
    teachgym train --resume RUN_DIR [--steps N]    continue a run from its last checkpoint
    teachgym eval RUN_DIR | --model F.zip --env ID  % of the env's test set mastered

One module per command (``list_``, ``bench``, ``play``, ``render``, ``train``, ``eval_``; the
underscore keeps the package's ``list`` and ``eval`` the builtins), each with
``add_parser(commands)``, which adds its sub-parser and sets its ``handler``; what several share
is in ``_common``. A new command is a module and one entry in ``_COMMANDS``. Bad input is
reported as ``teachgym ...: error: ...`` on stderr with exit code 2 (argparse's convention),
never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from teachgym import __version__
from teachgym.cli import bench, eval_, list_, play, render, train
from teachgym.cli._common import UsageError
from teachgym.cli.bench import _table_rows as _table_rows  # tests/cli use these two
from teachgym.cli.bench import _teacher_setting as _teacher_setting

__all__ = ["UsageError", "build_parser", "main"]

#: The commands, in the order ``teachgym --help`` lists them.
_COMMANDS = (list_, bench, play, render, train, eval_)


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
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser
