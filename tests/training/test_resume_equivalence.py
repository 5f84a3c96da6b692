"""A run killed with SIGKILL mid-training resumes from its last complete checkpoint with that
checkpoint's books (step and episode counters, the teacher's history) and goes on as the
uninterrupted run with the same seed would: its teacher continues from the state the
uninterrupted run's teacher had at that checkpoint (so its next samples are the ones the
uninterrupted run's teacher draws next), and it evaluates and checkpoints at the same steps.

Episodes running at the kill are dropped and the sub-envs are reseeded on resume
(``teachgym.training.trainer``, "Resume"), so what the student sees afterwards differs: the
teacher's stream and the schedules are what must not.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _kill import train_then_kill
from _tiny_training import ENV, TINY_ARGS

from teachgym import state_io, teachers
from teachgym.cli import main
from teachgym.teachers.conformance import _states_equal
from teachgym.training import BatchedTrainer, Trainer
from teachgym.training.batched import resume_trainer
from teachgym.training.runs import Checkpoint, RunDir

torch.set_num_threads(1)

CHECKPOINT_EVERY = 128
EVAL_EVERY = 256  # not a multiple of every checkpoint: a schedule restarted at 0 shows
FINAL_STEP = 896
KILL_AFTER = 384

SCHEDULE = ["--checkpoint-interval", str(CHECKPOINT_EVERY), "--eval-interval", str(EVAL_EVERY)]
SCHEDULE += ["--eval-vec-env", "dummy", "--eval-n-envs", "2", "--no-mastery-map"]
BATCHED_ARGS = ["--backend", "batched", "--n-envs", "16", "--torch-threads", "1"]
BATCHED_ARGS += ["--teacher-kwarg", "fit_rate=20", "--teacher-kwarg", "max_components=3"]
for _key, _value in {"n_steps": 8, "n_epochs": 1, "n_minibatches": 2, "hidden": 8}.items():
    BATCHED_ARGS += ["--algo-kwarg", f"{_key}={_value}"]
BATCHED_ARGS += ["--no-progress"]

BACKENDS = {"sb3": [ENV, *TINY_ARGS, *SCHEDULE], "batched": [ENV, *BATCHED_ARGS, *SCHEDULE]}


@pytest.fixture
def checkpoint_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every step a checkpoint is written at, in this process; no checkpoint is pruned."""
    steps: list[int] = []
    original = RunDir.save_checkpoint

    def save_checkpoint(
        self: RunDir, step: int, write: Callable[[Path], Any], keep: int = 2
    ) -> Checkpoint:
        steps.append(step)
        return original(self, step, write, keep=1_000_000)

    monkeypatch.setattr(RunDir, "save_checkpoint", save_checkpoint)
    yield steps


def eval_steps(run_dir: Path) -> list[int]:
    return [int(row["step"]) for row in RunDir(run_dir).read_eval_rows()]


def checkpoint_at(run_dir: Path, step: int) -> Checkpoint:
    (checkpoint,) = [c for c in RunDir(run_dir).checkpoints() if c.step == step]
    return checkpoint


def teacher_from(checkpoint: Checkpoint, like: teachers.Teacher) -> teachers.Teacher:
    """A new teacher of ``like``'s kind, restored from ``checkpoint`` (seed overwritten)."""
    teacher = teachers.make(
        type(like).registry_name, like.param_space, seed=987, **like.hyperparameters
    )
    teacher.load_state_dict(state_io.load(checkpoint.teacher_file))
    return teacher


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_a_killed_run_resumes_as_the_uninterrupted_run_goes_on(
    tmp_path: Path, checkpoint_steps: list[int], backend: str
) -> None:
    args = BACKENDS[backend]
    whole, killed = tmp_path / "whole", tmp_path / "killed"

    assert main(["train", *args, "--steps", str(FINAL_STEP), "--out", str(whole)]) == 0
    whole_checkpoints = list(checkpoint_steps)
    assert whole_checkpoints[-1] == FINAL_STEP and eval_steps(whole)[-1] == FINAL_STEP

    train_then_kill([*args, "--steps", "100000000"], killed, after_step=KILL_AFTER)
    resumed_at = RunDir(killed).latest_checkpoint()
    assert resumed_at is not None
    step = resumed_at.step
    # Up to the kill the two runs are the same run: the same teacher state at that checkpoint.
    reference = checkpoint_at(whole, step)
    assert _states_equal(
        state_io.load(resumed_at.teacher_file), state_io.load(reference.teacher_file)
    )

    saved = state_io.load(resumed_at.state_file)
    saved_teacher = state_io.load(resumed_at.teacher_file)

    checkpoint_steps.clear()
    trainer = resume_trainer(killed, total_timesteps=FINAL_STEP, progress=False)
    try:
        # The books are those of the checkpoint.
        assert trainer.resumed_from == resumed_at
        assert trainer.num_timesteps == step == saved["num_timesteps"]
        assert len(trainer.history) == saved_teacher["n_updates"] == saved["teacher_n_updates"]
        assert trainer.episodes == saved["episodes"]
        uninterrupted = teacher_from(reference, trainer.teacher)
        if isinstance(trainer, BatchedTrainer):
            # Nothing is drawn before learning starts; the first batch is recorded below.
            assert _states_equal(trainer.teacher.state_dict(), uninterrupted.state_dict())
            drawn: list[np.ndarray] = []
            sample_batch = trainer.teacher.sample_batch

            def recording(n: int) -> np.ndarray:
                batch = sample_batch(n)
                drawn.append(np.array(batch))
                return batch

            trainer.teacher.sample_batch = recording  # type: ignore[method-assign]
        else:
            assert isinstance(trainer, Trainer)
            # The wrapper drew each sub-env's pending params while it was built.
            pending = trainer.curriculum.ledger.pending
            expected = [uninterrupted.sample() for _ in pending]
            np.testing.assert_array_equal(np.stack(pending), np.stack(expected))
            assert _states_equal(trainer.teacher.state_dict(), uninterrupted.state_dict())
        result = trainer.learn()
    finally:
        trainer.close()
    assert result.num_timesteps == FINAL_STEP
    assert result.teacher.n_updates > saved_teacher["n_updates"]
    assert RunDir(killed).final_model_file.is_file()
    assert not list((killed / "checkpoints").glob(".tmp-*"))  # leftovers of the kill are gone
    history = state_io.load(RunDir(killed).curriculum_file)
    assert len(history["steps"]) == result.teacher.n_updates
    if backend == "batched":
        np.testing.assert_array_equal(drawn[0], uninterrupted.sample_batch(len(drawn[0])))

    assert checkpoint_steps == [s for s in whole_checkpoints if s > step]
    assert eval_steps(killed) == eval_steps(whole)
