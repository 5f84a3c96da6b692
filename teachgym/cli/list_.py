"""``teachgym list``: the registered teachers and envs."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add ``list`` to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "list",
        help="list registered teachers and envs",
        description="List registered teachers (teachgym.teachers.make) and envs (gymnasium.make).",
    )
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Print the teachers with their one-line summaries, then the ``teachgym/`` env ids."""
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
