"""Evaluating or plotting a run needs neither the trainer nor stable-baselines3's training code
(``docs/design.md``, "Layers"): checked in a fresh interpreter, where ``sys.modules`` shows what
an import really pulled in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TRAINING_CODE = (
    "teachgym.training.trainer",
    "teachgym.agents.sb3",
    "stable_baselines3",  # its package imports PPO, A2C and the on-policy training loop
    "stable_baselines3.ppo",
    "stable_baselines3.common.on_policy_algorithm",
    "torch",
)


def modules_after(statement: str) -> set[str]:
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "statement",
    [
        "import teachgym.training",
        "import teachgym.training.evaluation",
        "from teachgym.training import RunDir, evaluate, evaluate_run, EvalResult, TrainConfig",
        "import teachgym.training.plots",
    ],
)
def test_evaluation_and_plots_do_not_import_the_trainer(statement: str) -> None:
    loaded = modules_after(statement)
    assert not loaded & set(TRAINING_CODE), sorted(loaded & set(TRAINING_CODE))


def test_the_trainer_still_loads_on_first_use() -> None:
    loaded = modules_after("from teachgym.training import Trainer")
    assert {"teachgym.training.trainer", "stable_baselines3"} <= loaded
