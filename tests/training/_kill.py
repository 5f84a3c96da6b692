"""Shared by the kill tests: start ``teachgym train`` in a subprocess and SIGKILL it once a
checkpoint at or after a given step is complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from teachgym.training.runs import RunDir

REPO = Path(__file__).resolve().parents[2]


def train_then_kill(train_args: list[str], run_dir: Path, *, after_step: int) -> None:
    """Run ``python -m teachgym.cli train *train_args --out run_dir`` and kill it (SIGKILL) as
    soon as its newest complete checkpoint is at ``after_step`` or later."""
    argv = [sys.executable, "-m", "teachgym.cli", "train", *train_args, "--out", str(run_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=run_dir.parent
    )
    run = RunDir(run_dir)
    try:
        deadline = time.monotonic() + 300  # a generous bound on a loaded machine, not a timing
        while True:
            latest = run.latest_checkpoint()
            if latest is not None and latest.step >= after_step:
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
    assert not run.final_model_file.exists()  # it really was cut short
