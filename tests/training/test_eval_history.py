"""``eval.csv`` is the run's history (``docs/design.md``, "Runs and evaluation"): one evaluation
per step, appended and never rewritten, by a run, its resumes and a resume after a crash; every
evaluation and checkpoint at a step sees the same model, the one training has reached there.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch
from _tiny_training import ENV, TINY_ARGS

from teachgym.cli import main
from teachgym.training.runs import RunDir

torch.set_num_threads(1)

#: A value no evaluation of these tiny runs produces: a row carrying it was never rewritten.
MARK = "-0.123456"


def train_argv(run_dir: Path, steps: int) -> list[str]:
    argv = ["train", ENV, *TINY_ARGS, "--steps", str(steps), "--eval-interval", "128"]
    return [*argv, "--checkpoint-interval", "128", "--out", str(run_dir)]


def mark_row(run_dir: Path, step: int) -> str:
    """Replace the mean return of ``step``'s row by ``MARK``; return the new ``eval.csv``."""
    path = run_dir / "eval.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    for index, line in enumerate(lines[1:], start=1):
        values = line.split(",")
        if int(values[0]) == step:
            values[header.index("mean_return")] = MARK
            lines[index] = ",".join(values)
            break
    else:
        raise AssertionError(f"no row at step {step} in {lines}")
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def steps_of(run_dir: Path) -> list[int]:
    return [int(row["step"]) for row in RunDir(run_dir).read_eval_rows()]


def test_a_resumed_run_appends_to_eval_csv_and_keeps_every_earlier_row(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert main(train_argv(run_dir, 256)) == 0
    assert steps_of(run_dir) == [0, 128, 256]
    history = mark_row(run_dir, 256)  # the final evaluation of the first run
    assert main(["train", "--resume", str(run_dir), "--steps", "384", "--no-progress"]) == 0
    text = (run_dir / "eval.csv").read_text()
    assert text.startswith(history), "a resumed run rewrote eval.csv"
    assert steps_of(run_dir) == [0, 128, 256, 384]


def test_resume_after_a_crash_does_not_evaluate_a_step_again(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert main(train_argv(run_dir, 384)) == 0
    # As if killed after evaluating step 384 but before its checkpoint was complete.
    run = RunDir(run_dir)
    newest = run.latest_checkpoint()
    assert newest is not None and newest.step == 384
    newest.manifest_file.unlink()
    history = mark_row(run_dir, 384)
    assert main(["train", "--resume", str(run_dir), "--steps", "512", "--no-progress"]) == 0
    assert (run_dir / "eval.csv").read_text().startswith(history)
    assert steps_of(run_dir) == [0, 128, 256, 384, 512]


def test_the_checkpoint_at_the_last_step_holds_the_final_model(tmp_path: Path) -> None:
    """A checkpoint and an evaluation at step N both see the policy after the update at N, so
    a resume continues from the model that the final evaluation scored."""
    run_dir = tmp_path / "run"
    assert main(train_argv(run_dir, 256)) == 0
    checkpoint = RunDir(run_dir).latest_checkpoint()
    assert checkpoint is not None and checkpoint.step == 256
    assert weights(checkpoint.model_file) == weights(run_dir / "final_model.zip")


def test_train_and_eval_write_the_final_evaluation_under_one_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    assert main(train_argv(run_dir, 128)) == 0
    run = RunDir(run_dir)
    csv_path, json_path = run.eval_files("final", "uniform")
    assert (csv_path.name, json_path.name) == ("eval_final_uniform.csv", "eval_final_uniform.json")
    written_by_train = json_path.read_text()
    assert main(["eval", str(run_dir), "--no-progress"]) == 0
    assert str(json_path) in capsys.readouterr().out
    assert json_path.read_text() == written_by_train  # the same evaluation, the same numbers
    assert sorted(path.name for path in run_dir.glob("eval*")) == [
        "eval.csv",
        "eval_final_uniform.csv",
        "eval_final_uniform.json",
    ]


def test_append_eval_row_keeps_one_row_per_step(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", {})
    row = {"step": 64.0, "episodes": 3.0, "mastered_pct": 10.0, "mean_return": 0.5, "n_tasks": 50}
    assert run.append_eval_row(row) is True
    assert run.append_eval_row({**row, "mastered_pct": 90.0}) is False
    assert run.append_eval_row({**row, "step": 128.0}) is True
    lines = run.eval_csv.read_text().splitlines()
    assert lines == [
        "step,episodes,mastered_pct,mean_return,n_tasks",
        "64,3,10.0,0.5,50",
        "128,3,10.0,0.5,50",
    ]


def weights(model_zip: Path) -> bytes:
    with zipfile.ZipFile(model_zip) as archive:
        return archive.read("policy.pth")
