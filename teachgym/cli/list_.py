"""``teachgym list``: the registered teachers and envs, each env with its params."""

from __future__ import annotations

import argparse
import inspect
from typing import Any

from teachgym.cli._common import add_import_option, import_user_modules

__all__ = ["add_parser", "run"]


def add_parser(commands: Any) -> None:
    """Add ``list`` to the sub-parsers ``commands``."""
    parser = commands.add_parser(
        "list",
        help="list registered teachers and envs (with their params)",
        description="List registered teachers (teachgym.teachers.make) and envs "
        "(gymnasium.make), each env with its episode parameters: range [low, high] and default. "
        "With --import, also what your modules register.",
    )
    add_import_option(parser)
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Print the teachers with their one-line summaries, then each env id with its params."""
    import gymnasium

    import teachgym.envs  # noqa: F401  (registers the teachgym/ env ids)
    from teachgym import teachers

    known_ids = set(gymnasium.registry)
    import_user_modules(args.imports)
    names = teachers.available()
    width = max(len(name) for name in names)
    print("Teachers (teachgym.teachers.make):")
    for name in names:
        cls = teachers.get_class(name)
        summary = inspect.cleandoc(cls.__doc__ or "").splitlines()  # own docstring only
        line = f"  {name:<{width}}  {cls.__name__}"
        print(f"{line} — {summary[0]}" if summary else line)
    print()
    print("Envs (gymnasium.make), with each episode parameter's [low, high] and default:")
    env_ids = sorted(env_id for env_id in gymnasium.registry if env_id.startswith("teachgym/"))
    env_ids += sorted(set(gymnasium.registry) - known_ids - set(env_ids))  # from --import
    for env_id in env_ids:
        batched = gymnasium.registry[env_id].vector_entry_point is not None
        print(f"  {env_id}" + ("   (batched version: train --backend batched)" if batched else ""))
        for line in _param_lines(env_id):
            print(f"      {line}")
    if not env_ids:
        print("  (none registered yet)")
    return 0


def _param_lines(env_id: str) -> list[str]:
    """One line per episode parameter: name, range and default (built once, no episode run)."""
    from teachgym.envs import make_env

    try:
        env = make_env(env_id, obs="none")
    except ImportError as error:  # an optional extra (Box2D, MiniGrid) is missing
        return [f"(cannot build it here: {error})"]
    try:
        space = getattr(env.unwrapped, "param_space", None)
    finally:
        env.close()
    if space is None:
        return ["(not parameterized: no param_space)"]
    width = max(len(name) for name in space.names)
    defaults = space.defaults
    lines = []
    for index, name in enumerate(space.names):
        bounds = f"[{space.low[index]:g}, {space.high[index]:g}]"
        default = "" if defaults is None else f"  default {defaults[index]:g}"
        lines.append(f"{name:<{width}}  {bounds:<16}{default}".rstrip())
    return lines
