"""``--eval-n-envs`` and ``--eval-vec-env`` reach the trainer's evaluations, which give the
same results whatever the sub-envs (each episode is reset alone with its seed and params)."""

from __future__ import annotations

import json
from pathlib import Path

from _tiny_training import ENV, TINY_ARGS

from teachgym.cli import main

RUN = [ENV, "--teacher", "alp-gmm", "--steps", "128", "--eval-interval", "64", *TINY_ARGS]


def test_eval_sub_envs_are_configurable_and_do_not_change_the_results(tmp_path: Path) -> None:
    default, chosen = tmp_path / "default", tmp_path / "chosen"
    assert main(["train", *RUN, "--no-mastery-map", "--out", str(default)]) == 0
    extra = ["--eval-n-envs", "3", "--eval-vec-env", "dummy", "--no-mastery-map"]
    assert main(["train", *RUN, *extra, "--out", str(chosen)]) == 0
    config = json.loads((chosen / "config.json").read_text())["config"]
    assert config["eval_n_envs"] == 3 and config["eval_vec_env"] == "dummy"
    assert (default / "eval.csv").read_text() == (chosen / "eval.csv").read_text()
    assert len((chosen / "eval.csv").read_text().splitlines()) >= 3  # header, steps 0 and 64+


def test_bad_eval_options_exit_2_naming_the_value(tmp_path: Path, capsys) -> None:
    assert main(["train", *RUN, "--eval-n-envs", "0", "--out", str(tmp_path / "a")]) == 2
    assert "eval-n-envs" in capsys.readouterr().err
    assert main(["train", *RUN, "--eval-vec-env", "ray", "--out", str(tmp_path / "b")]) == 2
    assert "ray" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
