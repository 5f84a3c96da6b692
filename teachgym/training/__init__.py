"""Training under a teacher: config, trainer, run folders, test-set evaluation and plots.

- ``teachgym.training.config`` — ``TrainConfig``, the one description of a run (the CLI's options).
- ``teachgym.training.batched`` — ``train``, ``resume`` (either backend), ``BatchedTrainer``:
  teachgym's on-device PPO on a batched env under a teacher, in the same run folder.
- ``teachgym.training.trainer`` — ``Trainer``: SB3 learning under a teacher, checkpoints,
  periodic evaluation.
- ``teachgym.training.runs`` — ``RunDir``, the one owner of a run folder's file names.
- ``teachgym.training.evaluation`` — % of the fixed test set mastered; needs no trainer.
- ``teachgym.training.plots`` — the run's figures.

The names below load on first use, so importing ``teachgym.training.evaluation`` (or this
package) does not import the trainer or stable-baselines3's training code.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainConfig": "teachgym.training.config",
    "EVAL_KINDS": "teachgym.training.config",
    "VEC_ENV_CHOICES": "teachgym.training.config",
    "derive_seeds": "teachgym.training.config",
    "Trainer": "teachgym.training.trainer",
    "TrainResult": "teachgym.training.trainer",
    "EpisodeHistory": "teachgym.training.trainer",
    "RunCallback": "teachgym.training.trainer",
    "train": "teachgym.training.batched",
    "resume": "teachgym.training.batched",
    "BatchedTrainer": "teachgym.training.batched",
    "make_trainer": "teachgym.training.batched",
    "resume_trainer": "teachgym.training.batched",
    "capture_rng_state": "teachgym.training.trainer",
    "restore_rng_state": "teachgym.training.trainer",
    "RunDir": "teachgym.training.runs",
    "evaluate": "teachgym.training.evaluation",
    "evaluate_run": "teachgym.training.evaluation",
    "EvalResult": "teachgym.training.evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
