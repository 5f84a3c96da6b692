"""``teachgym render RUN_DIR`` (alias ``enjoy``): a run's trained policy, in a GIF or a window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageSequence

from teachgym.cli import main
from teachgym.training import TrainConfig, train
from teachgym.training.evaluation import evaluate_run

torch.set_num_threads(1)

ENV = "teachgym/GridNavigation-v0"


@pytest.fixture(autouse=True)
def _headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny finished run: 128 steps, checkpoints at 64 and 128, no evaluation."""
    path = tmp_path_factory.mktemp("render") / "run"
    config = TrainConfig(
        env_id=ENV,
        env_kwargs={"max_episode_steps": 20},
        n_envs=2,
        teacher="random",
        algorithm_kwargs={"n_steps": 32, "batch_size": 32, "n_epochs": 1,
                          "policy_kwargs": {"net_arch": [16]}},
        total_timesteps=128,
        checkpoint_interval=64,
        eval_episodes=0,
        torch_threads=1,
        run_dir=str(path),
    )  # fmt: skip
    train(config, progress=False)
    return path


def gif_frames(path: Path, fps: int = 30) -> int:
    """Frames written, from the GIF's total duration: Pillow merges identical consecutive
    frames (an agent bumping into a wall) into one of their summed duration."""
    with Image.open(path) as image:
        total = sum(frame.info["duration"] for frame in ImageSequence.Iterator(image))
    return round(total / round(1000 / fps))


def episode_lines(text: str) -> list[tuple[str, int, float]]:
    """``(label, steps, return)`` of each line ``render`` printed for an episode."""
    pattern = re.compile(r"^(.*?)(\d+) steps, return (-?[\d.]+)$", re.MULTILINE)
    return [(label, int(steps), float(value)) for label, steps, value in pattern.findall(text)]


def test_test_tasks_replay_the_episodes_their_evaluation_scored(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tasks.gif"
    argv = ["render", str(run_dir), "--task", "0", "--task", "3", "--out", str(out)]
    assert main(argv) == 0
    lines = episode_lines(capsys.readouterr().out)
    assert [label.split(" (")[0] for label, _, _ in lines] == ["task 0", "task 3"]
    assert gif_frames(out) == sum(steps + 1 for _, steps, _ in lines)  # reset frame + steps
    evaluation = evaluate_run(run_dir, kind="uniform", episodes=1, device="cpu")
    for (_, _, shown), task in zip(lines, (0, 3), strict=True):
        assert shown == pytest.approx(evaluation.task_returns[task], abs=0.005)


def test_chosen_params_and_checkpoints(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for checkpoint in ("64", "latest", "final"):
        out = tmp_path / f"{checkpoint}.gif"
        argv = ["enjoy", str(run_dir), "--param", "room_size=5", "--param", "lava_density=0",
                "--checkpoint", checkpoint, "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
        ((_, steps, _),) = episode_lines(capsys.readouterr().out)
        assert 1 <= steps <= 20  # the run's own 20-step limit
        assert gif_frames(out) == steps + 1


def test_human_opens_a_window_and_writes_nothing(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["render", str(run_dir), "--task", "1", "--human"]) == 0
    assert len(episode_lines(capsys.readouterr().out)) == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "50", "--out", "x.gif"], "has 50 tasks, numbered 0 to 49"),
        (["--checkpoint", "99", "--out", "x.gif"], "no checkpoint at step 99; steps: 64, 128"),
        (["--checkpoint", "best", "--out", "x.gif"], "final, latest or a step"),
        (["--actions", "[1]", "--out", "x.gif"], "drop --actions"),
        (["--env-kwarg", "walker=short", "--out", "x.gif"], "drop --env-kwarg"),
        (["--task", "1", "--param", "room_size=5", "--out", "x.gif"], "not both"),
        (["--param", "room_size=99", "--out", "x.gif"], "'room_size' = 99 is outside"),
        ([], "give --out FILE.gif"),
    ],
)
def test_bad_run_options_are_usage_errors(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, extra, message
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["render", str(run_dir), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.gif").exists()


def test_a_folder_that_is_no_run_and_run_options_on_an_env_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", str(tmp_path), "--out", str(tmp_path / "x.gif")]) == 2
    assert "not a teachgym run folder" in capsys.readouterr().err
    assert main(["render", ENV, "--task", "1", "--out", str(tmp_path / "x.gif")]) == 2
    assert "--task need a RUN_DIR" in capsys.readouterr().err


def test_an_env_id_can_be_watched_in_a_window_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "MiniGrid-Empty-5x5-v0", "--human", "--steps", "3"]) == 0
    ((_, steps, _),) = episode_lines(capsys.readouterr().out)
    assert steps == 3
