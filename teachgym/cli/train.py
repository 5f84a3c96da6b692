"""``teachgym train``: train a student in a teacher's curriculum, or resume a run.

The options are generated from ``TrainConfig`` (``teachgym.training.config``), one per field: the
field's type picks the kind of option (a value, a repeatable ``KEY=VALUE`` for a dict, a
repeatable value for a list, a ``--no-…`` switch for a ``True`` flag), its docstring is the help
and its default is shown; its ``metadata`` gives the option's name where it is not
``--<field-name>``, the value's name, the minimum of an integer and the choices of a string. A
field added to ``TrainConfig`` is an option here without a line in this module.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import shlex
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teachgym.cli._common import (
    UsageError,
    add_key_value_option,
    import_user_modules,
    int_at_least,
    print_evaluation,
)

__all__ = ["add_parser", "run"]

#: The fields a resumed run may change (the arguments of ``teachgym.training.resume``): a
#: resumed run keeps the configuration it was started with.
_RESUME_OVERRIDES = ("total_timesteps", "device", "torch_threads")


@dataclass(frozen=True)
class _ConfigOption:
    """The command-line form of one ``TrainConfig`` field.

    Attributes:
        field: The field's name (also the argument's ``dest``).
        flag: ``--steps``; the metavar (``ENV``) for the positional argument.
        kind: ``int``, ``str``, ``bool``, ``dict`` or ``list`` (``None`` taken out of the type).
        default: The field's default (``dataclasses.MISSING`` for a required field).
        metadata: The field's ``metadata`` (see ``teachgym.training.config``).
    """

    field: str
    flag: str
    kind: type
    default: Any
    metadata: Mapping[str, Any]


def add_parser(commands: Any) -> None:
    """Add ``train`` to the sub-parsers ``commands``."""
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
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue RUN_DIR from its last complete checkpoint (teacher history and step "
        f"counter intact); only {_resume_flags()} may change",
    )
    _add_config_options(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Start a run (or resume one), train it to the end and print the result."""
    from teachgym.training import TrainConfig, make_trainer, resume_trainer

    values: dict[str, Any] = {}
    for option in _config_options():
        value = getattr(args, option.field)
        if value is not None:
            values[option.field] = dict(value) if option.kind is dict else value
    argv = list(args.argv)
    if values.get("imports") and args.resume is None:
        # Before anything is built, and recorded resolved: the config and command.txt then
        # import them again from any directory.
        resolved = import_user_modules(values["imports"])
        argv = _with_imports(argv, resolved)
        values["imports"] = resolved
    command = shlex.join(["teachgym", *argv])
    try:
        if args.resume is not None:
            fixed = [
                option.flag
                for option in _config_options()
                if option.field in values and option.field not in _RESUME_OVERRIDES
            ]
            if fixed:
                raise UsageError(
                    f"--resume continues a run with its saved config; {', '.join(fixed)} cannot "
                    f"be changed (only {_resume_flags()} can)"
                )
            trainer = resume_trainer(
                args.resume,
                **{name: values.get(name) for name in _RESUME_OVERRIDES},
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
            if "env_id" not in values:
                raise UsageError("give the ENV id to train on, or --resume RUN_DIR")
            config = TrainConfig(**values)
            trainer = make_trainer(config, command=command, progress=not args.no_progress)
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
        print_evaluation(result.evaluation)
    return 0


def _with_imports(argv: list[str], resolved: list[str]) -> list[str]:
    """``argv`` with the value of each ``--import`` replaced by its resolved form (unchanged if
    the options cannot be matched one to one, e.g. an abbreviated ``--imp``)."""
    flag = "--import"
    if sum(token == flag or token.startswith(f"{flag}=") for token in argv) != len(resolved):
        return argv
    values = iter(resolved)
    recorded, replace_next = [], False
    for token in argv:
        if replace_next:
            token, replace_next = next(values), False
        elif token == flag:
            replace_next = True
        elif token.startswith(f"{flag}="):
            token = f"{flag}={next(values)}"
        recorded.append(token)
    return recorded


# ---------------------------------------------------------------------------------- the generator
@functools.cache
def _config_options() -> tuple[_ConfigOption, ...]:
    """One ``_ConfigOption`` per ``TrainConfig`` field, in field order."""
    from teachgym.training.config import TrainConfig

    hints = typing.get_type_hints(TrainConfig)
    options = []
    for spec in dataclasses.fields(TrainConfig):
        kind, default = _base_type(hints[spec.name]), _default(spec)
        dashed = spec.name.replace("_", "-")
        if default is dataclasses.MISSING:
            flag = spec.metadata.get("metavar", spec.name.upper())
        elif kind is bool and default is True:
            flag = spec.metadata.get("flag", f"--no-{dashed}")
        else:
            flag = spec.metadata.get("flag", f"--{dashed}")
        options.append(_ConfigOption(spec.name, flag, kind, default, spec.metadata))
    return tuple(options)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """Add an argument per ``TrainConfig`` field; every one defaults to ``None`` (not given)."""
    for option in _config_options():
        name, metadata = option.field, option.metadata
        if option.default is dataclasses.MISSING:  # the env id: positional, absent with --resume
            parser.add_argument(name, nargs="?", metavar=option.flag, help=_help(name))
        elif option.kind is bool:
            switch_help = metadata.get("flag_help")
            parser.add_argument(
                option.flag,
                dest=name,
                action="store_const",
                const=not option.default,
                help=_help(name) if switch_help is None else _escape(switch_help),
            )
        elif option.kind is dict:
            extra = " VALUE is parsed as JSON when it can be; repeatable."
            add_key_value_option(parser, option.flag, name, _help(name, extra))
        elif option.kind is list:
            parser.add_argument(
                option.flag,
                dest=name,
                action="append",
                metavar=metadata.get("metavar"),
                help=_help(name, " Repeatable."),
            )
        else:
            minimum = metadata.get("minimum")
            parser.add_argument(
                option.flag,
                dest=name,
                type=option.kind if minimum is None else int_at_least(minimum),
                choices=metadata.get("choices"),
                metavar=None if "choices" in metadata else metadata.get("metavar"),
                help=_help(name, default=option.default),
            )


def _help(name: str, extra: str = "", default: Any = None) -> str:
    """The field's docstring, plus ``extra`` and the default (when there is one to show)."""
    from teachgym.training.config import field_help

    shown = "" if default in ({}, [], None) else f" (default: {default})"
    return _escape(field_help(name).replace("``", "") + extra + shown)


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # argparse %-formats help strings


def _default(spec: dataclasses.Field[Any]) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return dataclasses.MISSING


def _base_type(hint: Any) -> type:
    """``int | None`` → ``int``; ``dict[str, Any]`` → ``dict``; ``str`` → ``str``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return typing.get_origin(hint) or hint  # type: ignore[no-any-return]


def _resume_flags() -> str:
    """``--steps, --device and --torch-threads``."""
    flags = {option.field: option.flag for option in _config_options()}
    names = [flags[name] for name in _RESUME_OVERRIDES]
    return f"{', '.join(names[:-1])} and {names[-1]}"
