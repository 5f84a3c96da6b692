"""``teachgym render``: record an episode of any env as a GIF."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from teachgym.cli._common import (
    UsageError,
    add_env_arguments,
    check_output_path,
    env_arguments,
    non_negative_int,
    positive_int,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add ``render`` to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "render",
        help="record an episode of any env as a GIF",
        description="Play one episode with random or given actions and write it as a GIF.",
    )
    add_env_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.gif", help="output GIF")
    parser.add_argument(
        "--actions",
        metavar="JSON",
        help="the actions as a JSON list (e.g. '[2,2,1]' or '[[0.1,0,0,0]]') or a path to a "
        ".json file holding one; default: random actions",
    )
    parser.add_argument(
        "--steps", type=positive_int, default=500, help="at most this many steps (default: 500)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed (default: 0)")
    parser.add_argument("--fps", type=positive_int, default=30, help="GIF frame rate (default: 30)")
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Play the episode and write the GIF."""
    from teachgym.envs.viewing import record_episode, save_gif

    env_id, params, env_kwargs = env_arguments(args)
    if args.out.suffix.lower() != ".gif" or args.out.is_dir():
        raise UsageError(f"--out must be a .gif file path; got {str(args.out)!r}")
    check_output_path(args.out, "--out")
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
