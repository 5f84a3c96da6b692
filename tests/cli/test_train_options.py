"""``teachgym train``'s options come from ``TrainConfig``: one per field, its docstring as the
help, its default shown, its type, minimum and choices enforced by the parser."""

from __future__ import annotations

import dataclasses

import pytest

from teachgym.cli import build_parser, main
from teachgym.training.config import TrainConfig, field_help

ENV = "teachgym/GridNavigation-v0"


def train_parser():  # type: ignore[no-untyped-def]
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return commands.choices["train"]  # type: ignore[attr-defined]


def test_every_config_field_is_an_option_with_its_docstring() -> None:
    actions = {action.dest: action for action in train_parser()._actions}
    for spec in dataclasses.fields(TrainConfig):
        assert spec.name in actions, spec.name
        action = actions[spec.name]
        assert action.default is None  # "not given", so --resume can tell what was set
        first_words = " ".join(field_help(spec.name).replace("``", "").split()[:3])
        if spec.type != "bool":  # the --no-... switches have their own help
            assert first_words in action.help.replace("%%", "%"), spec.name


def test_help_shows_the_config_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    defaults = TrainConfig(env_id="-")
    for name, option in (
        ("total_timesteps", "--steps N"),
        ("keep_checkpoints", "--keep-checkpoints N"),
    ):
        assert option in text
        assert f"(default: {getattr(defaults, name)})" in text
    for option in ("--algo NAME", "--algo-kwarg KEY=VALUE", "--import MODULE", "--out RUN_DIR"):
        assert option in text
    assert "only --steps, --device and --torch-threads may change" in text


def test_options_parse_into_config_fields() -> None:
    argv = ["train", ENV, "--steps", "64", "--algo", "dqn", "--algo-kwarg", "buffer_size=100"]
    argv += ["--algo-kwarg", 'policy_kwargs={"net_arch": [8]}', "--import", "a", "--import", "b"]
    argv += ["--no-mastery-map", "--no-replay-buffer", "--vec-env", "subproc", "--seed", "3"]
    args = build_parser().parse_args(argv)
    assert args.env_id == ENV
    assert args.total_timesteps == 64 and args.seed == 3 and args.algorithm == "dqn"
    assert dict(args.algorithm_kwargs) == {"buffer_size": 100, "policy_kwargs": {"net_arch": [8]}}
    assert args.imports == ["a", "b"]
    assert args.mastery_map is False and args.save_replay_buffer is False
    assert args.vec_env == "subproc"
    assert args.teacher is None and args.torch_threads is None  # not given


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "argument --seed: expected a non-negative integer; got -1"),
        (["--keep-checkpoints", "0"], "argument --keep-checkpoints: expected a positive integer"),
        (["--eval-kind", "cube"], "argument --eval-kind: invalid choice: 'cube'"),
        (["--steps", "lots"], "argument --steps: expected a positive integer; got 'lots'"),
    ],
)
def test_parser_enforces_minimums_and_choices(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", ENV, *argv]) == 2
    assert message in capsys.readouterr().err
