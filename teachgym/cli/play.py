"""``teachgym play``: drive a grid env with the keyboard."""

from __future__ import annotations

import argparse
from typing import Any

from teachgym.cli._common import UsageError, add_env_arguments, env_arguments, non_negative_int

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add ``play`` to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "play",
        help="drive a grid env with the keyboard",
        description=(
            "Open a pygame window and drive a MiniGrid-based env: arrows turn and move, space "
            "toggles, tab picks up, shift drops, enter is 'done', backspace restarts, escape quits."
        ),
    )
    add_env_arguments(parser)
    parser.add_argument("--seed", type=non_negative_int, help="seed of every episode's layout")
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Open the window and play until the player quits."""
    from teachgym.envs.viewing import GridPlayer

    env_id, params, env_kwargs = env_arguments(args)
    try:
        player = GridPlayer(env_id, params, seed=args.seed, env_kwargs=env_kwargs)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    player.start()
    return 0
