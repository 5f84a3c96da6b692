"""A run killed with SIGKILL mid-training resumes from its last complete checkpoint with the
teacher's history length and the step counter of that checkpoint, and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _tiny_training import ENV, TINY_ARGS

from teachgym import state_io
from teachgym.training import Trainer
from teachgym.training.runs import RunDir

torch.set_num_threads(1)


# Checkpoint often, so the kill below often lands while one is being written.
CHECKPOINT_EVERY = 128
KILL_AFTER_STEP = 3 * CHECKPOINT_EVERY


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_training_then_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "teachgym.cli", "train", ENV, *TINY_ARGS]
    argv += ["--steps", "1000000", "--eval-episodes", "0", "--out", str(run_dir)]
    argv += ["--checkpoint-interval", str(CHECKPOINT_EVERY)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path
    )
    run = RunDir(run_dir)
    try:
        deadline = time.monotonic() + 300  # a generous bound on a loaded machine, not a timing
        while True:
            latest = run.latest_checkpoint()
            if latest is not None and latest.step >= KILL_AFTER_STEP:
                break
            if process.poll() is not None:
                raise AssertionError(f"training exited early: {process.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise AssertionError("no checkpoint appeared")
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)
        assert process.stderr is not None
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert not (run_dir / "final_model.zip").exists()  # it really was cut short

    checkpoint = run.latest_checkpoint()
    assert checkpoint is not None and checkpoint.step >= KILL_AFTER_STEP
    saved = state_io.load(checkpoint.path / "state.npz")
    saved_teacher = state_io.load(checkpoint.path / "teacher.npz")

    trainer = Trainer.resume(
        run_dir, total_timesteps=checkpoint.step + 2 * CHECKPOINT_EVERY, progress=False
    )
    try:
        assert trainer.resumed_from == checkpoint
        assert trainer.num_timesteps == checkpoint.step == saved["num_timesteps"]
        assert len(trainer.history) == saved_teacher["n_updates"] == saved["teacher_n_updates"]
        assert trainer.teacher.n_updates == saved_teacher["n_updates"]
        assert trainer.episodes == saved["episodes"]
        result = trainer.learn()
    finally:
        trainer.close()
    assert result.num_timesteps == checkpoint.step + 2 * CHECKPOINT_EVERY
    assert result.teacher.n_updates > saved_teacher["n_updates"]
    assert (run_dir / "final_model.zip").is_file()
    assert not list((run_dir / "checkpoints").glob(".tmp-*"))  # leftovers of the kill are gone
    history = state_io.load(run_dir / "curriculum.npz")
    assert len(history["steps"]) == result.teacher.n_updates
