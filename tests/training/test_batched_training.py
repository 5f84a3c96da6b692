"""The batched backend end to end: run folder, evaluation on the MiniGrid-based test set,
checkpoints, resume, ``teachgym eval`` and ``teachgym train`` with bad input (the kill test is
in ``test_resume_equivalence.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from teachgym import state_io
from teachgym.agents.ppo import BatchedPPO
from teachgym.cli import main
from teachgym.training import BatchedTrainer, TrainConfig, resume, train
from teachgym.training.evaluation import evaluate_run
from teachgym.training.runs import RunDir

ENV = "teachgym/GridNavigation-v0"
PPO = {"n_steps": 8, "n_epochs": 1, "n_minibatches": 2, "hidden": 8}
TINY = {
    "backend": "batched",
    "n_envs": 16,
    "algorithm_kwargs": PPO,
    "teacher_kwargs": {"fit_rate": 20, "max_components": 3},
    "eval_vec_env": "dummy",
    "eval_n_envs": 4,
    "torch_threads": 1,
    "mastery_map": False,
}


def exit_code(argv: list[str]) -> int | str | None:
    """``main``'s exit code, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_a_batched_run_writes_the_same_run_folder(tmp_path: Path) -> None:
    config = TrainConfig(
        env_id=ENV,
        total_timesteps=1024,
        eval_interval=512,
        checkpoint_interval=512,
        run_dir=str(tmp_path / "run"),
        **TINY,  # type: ignore[arg-type]
    )
    result = train(config, progress=False)
    run = RunDir(result.run_dir)
    assert result.num_timesteps == 1024
    assert isinstance(result.model, BatchedPPO)
    assert [row["step"] for row in run.read_eval_rows()] == [0.0, 512.0, 1024.0]
    for path in (run.final_model_file, run.teacher_file, run.curriculum_file, run.summary_file):
        assert path.is_file(), path
    assert [checkpoint.step for checkpoint in run.checkpoints()] == [512, 1024]
    assert any(run.tensorboard_dir.iterdir())
    stored = run.read_config()
    assert stored["config"]["backend"] == "batched"
    assert stored["resolved"]["obs_wrapper"] == "none"
    summary = json.loads(run.summary_file.read_text())
    assert summary["backend"] == "batched"
    assert summary["episodes"] == result.teacher.n_updates == result.episodes > 0
    timing = summary["timing"]
    assert timing["rollouts"] == 1024 / (16 * 8)
    assert 0.0 <= timing["teacher_share"] < 1.0
    curriculum = state_io.load(run.curriculum_file)
    assert len(curriculum["scores"]) == result.episodes
    assert np.all(np.diff(curriculum["steps"]) >= 0)
    # The saved model evaluates on the MiniGrid-based test set as the trainer did.
    again = evaluate_run(run.path, n_envs=4, vec_env="dummy")
    assert again.mastered_pct == pytest.approx(summary["final_evaluation"]["mastered_pct"])
    # So does `teachgym eval --model`, which recognises a batched-backend model file.
    out = tmp_path / "eval.json"
    argv = ["eval", "--model", str(run.final_model_file), "--env", ENV, "--n-envs", "4"]
    assert main([*argv, "--vec-env", "dummy", "--out", str(out), "--no-progress"]) == 0
    assert json.loads(out.read_text())["mastered_pct"] == pytest.approx(again.mastered_pct)


def test_resume_continues_the_books_and_the_schedule(tmp_path: Path) -> None:
    config = TrainConfig(
        env_id=ENV,
        total_timesteps=512,
        eval_episodes=0,
        checkpoint_interval=256,
        run_dir=str(tmp_path / "run"),
        **TINY,  # type: ignore[arg-type]
    )
    first = train(config, progress=False)
    updates = first.teacher.n_updates
    trainer = BatchedTrainer.resume(first.run_dir, total_timesteps=1024, progress=False)
    try:
        assert trainer.num_timesteps == 512
        assert trainer.model.num_updates == 4
        assert trainer.teacher.n_updates == updates == len(trainer.history)
        result = trainer.learn()
    finally:
        trainer.close()
    assert result.num_timesteps == 1024
    assert result.teacher.n_updates > updates
    assert len(state_io.load(RunDir(first.run_dir).curriculum_file)["scores"]) == (
        result.teacher.n_updates
    )
    # The package's resume picks the backend from the run folder.
    third = resume(first.run_dir, total_timesteps=1152, progress=False)
    assert third.num_timesteps == 1152 and isinstance(third.model, BatchedPPO)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--algo", "a2c"], "teachgym's own PPO only"),
        (["--algo-kwarg", "n_step=8"], "unknown PPO hyperparameter"),
        (["--algo-kwarg", "gamma=2"], "gamma"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--policy", "MlpPolicy"], "no SB3 policy"),
    ],
)
def test_bad_batched_configs_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "run"
    argv = ["train", ENV, "--backend", "batched", "--steps", "64", "--out", str(out), *extra]
    assert exit_code(argv) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_an_env_without_a_batched_version_is_named_with_those_that_have_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["train", "teachgym/StumpTracks-v0", "--backend", "batched", "--out", str(out)]
    assert exit_code(argv) == 2
    error = capsys.readouterr().err
    assert "has no batched version" in error and "teachgym/GridNavigation-v0" in error
    assert not out.exists()


def test_unknown_backend_lists_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["train", ENV, "--backend", "jax"]) == 2
    assert "batched" in capsys.readouterr().err


def test_a_batched_model_evaluates_on_subprocess_envs() -> None:
    """MiniGrid's own observations carry text, which Gymnasium's shared memory cannot hold:
    the evaluation's sub-processes send them through their pipes instead."""
    from teachgym.training.evaluation import evaluate

    model = BatchedPPO(None, PPO, seed=0)
    tasks = np.array([[5.0, 0.0, 0.0, 0.0], [6.0, 0.5, 0.0, 0.0], [7.0, 1.0, 0.1, 0.0]])
    kwargs = {"obs_wrapper": "none", "tasks": tasks, "n_envs": 2}
    in_subprocesses = evaluate(model, ENV, vec_env="subproc", **kwargs)  # type: ignore[arg-type]
    in_process = evaluate(model, ENV, vec_env="dummy", **kwargs)  # type: ignore[arg-type]
    np.testing.assert_array_equal(in_subprocesses.returns, in_process.returns)
