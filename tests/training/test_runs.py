"""The run folder: atomic checkpoints that survive a crash at any point, pruning, eval.csv."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from teachgym.training.runs import NotARunError, RunDir, is_run


def write_files(*names: str):  # type: ignore[no-untyped-def]
    def write(folder: Path) -> list[str]:
        for name in names:
            (folder / name).write_text(name)
        return list(names)

    return write


def test_create_open_and_refuse_to_overwrite(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", {"config": {"a": 1}}, "teachgym train X")
    assert is_run(run.path)
    assert RunDir.open(run.path).read_config() == {"format": "teachgym-run/1", "config": {"a": 1}}
    assert (run.path / "command.txt").read_text() == "teachgym train X\n"
    run.append_command("teachgym train --resume run")
    assert len((run.path / "command.txt").read_text().splitlines()) == 2
    with pytest.raises(ValueError, match=r"already exists and is not empty.*--resume"):
        RunDir.create(run.path, {})
    with pytest.raises(NotARunError, match="not a teachgym run folder"):
        RunDir.open(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text(json.dumps({"lr": 3}))
    with pytest.raises(NotARunError):
        RunDir.open(tmp_path / "other")


def test_checkpoints_are_complete_or_absent(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", {})
    first = run.save_checkpoint(100, write_files("model.zip", "state.npz"), keep=2)
    assert run.latest_checkpoint() == first

    # A crash while writing: the write raises halfway; no new checkpoint, no temporary left.
    def crash(folder: Path) -> list[str]:
        (folder / "model.zip").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.save_checkpoint(200, crash)
    assert run.latest_checkpoint() == first
    assert not list(run.checkpoints_dir.glob(".tmp-*"))

    # What SIGKILL leaves: a temporary folder, and a renamed folder whose manifest lists a
    # missing file (or has no manifest). Neither counts; the next save clears the temporary.
    (run.checkpoints_dir / ".tmp-step_000000000300-123").mkdir()
    (run.checkpoints_dir / ".tmp-step_000000000300-123" / "model.zip").write_text("x")
    broken = run.checkpoints_dir / "step_000000000400"
    broken.mkdir()
    (broken / "checkpoint.json").write_text(json.dumps({"step": 400, "files": ["model.zip"]}))
    (run.checkpoints_dir / "step_000000000500").mkdir()
    assert run.latest_checkpoint() == first

    second = run.save_checkpoint(600, write_files("model.zip"), keep=2)
    assert run.latest_checkpoint() == second
    assert not list(run.checkpoints_dir.glob(".tmp-*"))
    assert json.loads((run.checkpoints_dir / "latest.json").read_text()) == {
        "checkpoint": "step_000000000600",
        "step": 600,
    }


def test_pruning_keeps_the_newest(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", {})
    for step in (10, 20, 30, 40):
        run.save_checkpoint(step, write_files("model.zip"), keep=2)
    assert [c.step for c in run.checkpoints()] == [30, 40]
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == [
        "latest.json",
        "step_000000000030",
        "step_000000000040",
    ]
    # The same step twice keeps the first, complete one.
    again = run.save_checkpoint(40, write_files("other.bin"), keep=2)
    assert again.files == ("model.zip",)


def test_eval_rows_round_trip(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", {})
    assert run.read_eval_rows() == []
    rows = [
        {"step": 0.0, "episodes": 0.0, "mastered_pct": 0.0, "mean_return": -1.5, "n_tasks": 50.0},
        {"step": 512.0, "episodes": 9.0, "mastered_pct": 12.0, "mean_return": 3.25, "n_tasks": 50},
    ]
    run.write_eval_rows(rows)
    text = (run.path / "eval.csv").read_text().splitlines()
    assert text[0] == "step,episodes,mastered_pct,mean_return,n_tasks"
    assert text[2] == "512,9,12.0,3.25,50"
    assert run.read_eval_rows() == rows


@pytest.mark.parametrize("damage", ["garbage manifest", "missing file"])
def test_resume_names_a_corrupt_newest_checkpoint_it_passes_over(
    tmp_path: Path, damage: str
) -> None:
    import warnings

    from teachgym.training.runs import CorruptCheckpointWarning

    run = RunDir.create(tmp_path / "run", {})
    older = run.save_checkpoint(100, write_files("model.zip"), keep=3)
    newer = run.save_checkpoint(200, write_files("model.zip"), keep=3)
    if damage == "garbage manifest":
        newer.manifest_file.write_text("{not json")
    else:
        (newer.path / "model.zip").unlink()
    with pytest.warns(CorruptCheckpointWarning, match=newer.path.name) as caught:
        assert run.latest_checkpoint() == older
    assert older.path.name in str(caught[0].message)
    # An intact run, or a folder a crash left without a manifest, gives no warning.
    newer.manifest_file.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorruptCheckpointWarning)
        assert run.latest_checkpoint() == older
