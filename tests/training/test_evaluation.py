"""Test-set evaluation (``teachgym.training.evaluation``) and ``teachgym eval``."""

from __future__ import annotations

import contextlib
import json
import shutil
import types
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from teachgym.cli import main
from teachgym.envs import make_env
from teachgym.envs import test_set as fixed_test_set  # not collected as a test
from teachgym.training import TrainConfig, train
from teachgym.training.evaluation import EvalResult, episode_seed, evaluate

torch.set_num_threads(1)

ENV = "teachgym/GridNavigation-v0"
SHORT = {"max_episode_steps": 20}


class ScriptedModel:
    """Anything with SB3's ``predict``: always the same action, counting calls."""

    def __init__(self, action: int) -> None:
        self.action = action
        self.batches: list[int] = []

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, Any]:
        assert deterministic
        self.batches.append(len(obs))
        return np.full(len(obs), self.action), None


class ObservationPolicy:
    """A deterministic policy that reads its observations: forward, unless a code computed from
    the observation says turn. Episodes differ from task to task, and some reach the goal."""

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, Any]:
        assert deterministic
        codes = np.array([zlib.crc32(row.tobytes()) for row in np.asarray(obs)])
        return np.where(codes % 5 < 2, codes % 5, 2), None  # 0, 1: turn; 2: forward


def one_task_at_a_time(model: Any, tasks: np.ndarray, episodes: int) -> np.ndarray:
    """The protocol without a vector env: each episode alone, seeded by ``episode_seed``."""
    env = make_env(ENV, env_kwargs=SHORT)
    returns = np.zeros((len(tasks), episodes))
    try:
        for task, params in enumerate(tasks):
            for episode in range(episodes):
                obs, _ = env.reset(seed=episode_seed(task, episode), options={"params": params})
                done = False
                while not done:
                    action, _ = model.predict(obs[None], deterministic=True)
                    obs, reward, terminated, truncated, _ = env.step(action[0])
                    returns[task, episode] += float(reward)
                    done = terminated or truncated
    finally:
        env.close()
    return returns


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "run"
    config = TrainConfig(
        env_id=ENV,
        env_kwargs=SHORT,
        n_envs=2,
        teacher="random",
        algorithm_kwargs={"n_steps": 32, "batch_size": 32, "n_epochs": 1},
        total_timesteps=128,
        checkpoint_interval=64,
        eval_episodes=1,
        torch_threads=1,
        run_dir=str(path),
    )
    train(config, progress=False)
    return path


def test_evaluate_runs_the_fixed_test_set_deterministically() -> None:
    model = ScriptedModel(action=2)  # MiniGrid "forward"
    first = evaluate(model, ENV, env_kwargs=SHORT, n_envs=8)
    second = evaluate(ScriptedModel(action=2), ENV, env_kwargs=SHORT, n_envs=3, vec_env="dummy")
    np.testing.assert_array_equal(first.tasks, fixed_test_set(ENV))
    assert first.returns.shape == (50, 1)
    # Same tasks, same per-episode seeds: the number of envs stepped together does not matter.
    np.testing.assert_array_equal(first.returns, second.returns)
    assert max(model.batches) == 8  # the policy saw batches of observations
    assert first.mastered_pct == pytest.approx(100 * np.mean(first.returns[:, 0] > 0.0))
    assert first.param_names == ["room_size", "goal_distance", "wall_density", "lava_density"]


@pytest.mark.parametrize(("n_envs", "vec_env"), [(3, "subproc"), (1, "dummy"), (4, "dummy")])
def test_vector_evaluation_equals_one_task_at_a_time(n_envs: int, vec_env: str) -> None:
    tasks = fixed_test_set(ENV)
    expected = one_task_at_a_time(ObservationPolicy(), tasks, episodes=2)
    assert 0 < np.count_nonzero(expected) < expected.size  # a policy that does not always fail
    result = evaluate(
        ObservationPolicy(), ENV, env_kwargs=SHORT, episodes=2, n_envs=n_envs, vec_env=vec_env
    )
    np.testing.assert_array_equal(result.returns, expected)  # same seeds, same returns
    np.testing.assert_array_equal(result.mastered, expected.mean(axis=1) > 0.0)


def test_vector_evaluation_checks_its_options() -> None:
    with pytest.raises(ValueError, match="n_envs must be a positive integer or None; got 0"):
        evaluate(ScriptedModel(2), ENV, n_envs=0)
    with pytest.raises(ValueError, match="unknown vec_env 'ray'"):
        evaluate(ScriptedModel(2), ENV, vec_env="ray")
    tasks = fixed_test_set(ENV)[:2]
    with pytest.warns(DeprecationWarning, match="use n_envs"):
        old = evaluate(ScriptedModel(2), ENV, env_kwargs=SHORT, tasks=tasks, n_parallel=2)
    new = evaluate(ScriptedModel(2), ENV, env_kwargs=SHORT, tasks=tasks, n_envs=2)
    np.testing.assert_array_equal(old.returns, new.returns)


def test_the_progress_line_says_what_is_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teachgym.training import evaluation

    lines: list[str] = []

    @contextlib.contextmanager
    def record(description: str, total: float, **_: Any) -> Iterator[Any]:
        lines.append(description)
        yield types.SimpleNamespace(advance=lambda amount=1: None)

    monkeypatch.setattr(evaluation, "progress_task", record)
    evaluate(ScriptedModel(2), ENV, env_kwargs=SHORT, tasks=fixed_test_set(ENV)[:1], progress=True)
    config = TrainConfig(
        env_id=ENV,
        env_kwargs=SHORT,
        n_envs=2,
        teacher="random",
        algorithm_kwargs={"n_steps": 32, "batch_size": 32, "n_epochs": 1},
        total_timesteps=128,
        eval_interval=64,
        checkpoint_interval=0,
        torch_threads=1,
        run_dir=str(tmp_path / "run"),
    )
    train(config, progress=True)
    assert lines == [
        f"evaluating {ENV}",
        "evaluating at step 0",
        "evaluating at step 64",
        "evaluating at step 128",
    ]


def test_episodes_per_task_and_custom_tasks() -> None:
    tasks = fixed_test_set(ENV)[:3]
    result = evaluate(ScriptedModel(2), ENV, env_kwargs=SHORT, tasks=tasks, episodes=2)
    assert result.kind == "custom" and result.returns.shape == (3, 2)
    np.testing.assert_allclose(result.task_returns, result.returns.mean(axis=1))
    with pytest.raises(ValueError, match="episodes must be a positive integer"):
        evaluate(ScriptedModel(2), ENV, tasks=tasks, episodes=0)
    with pytest.raises(ValueError, match="room_size"):
        evaluate(ScriptedModel(2), ENV, tasks=np.full((1, 4), 99.0))
    assert episode_seed(0, 0) == episode_seed(0, 0) != episode_seed(0, 1)


def test_eval_result_mastery_and_files(tmp_path: Path) -> None:
    result = EvalResult(
        env_id="x",
        kind="custom",
        param_names=["a", "b"],
        tasks=np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]),
        returns=np.array([[250.0, 240.0], [100.0, 300.0], [230.0, 230.0]]),
        mastery_threshold=230.0,
    )
    # Mean returns 245, 200, 230: only the first is *above* the threshold.
    assert result.mastered.tolist() == [True, False, False]
    assert result.mastered_pct == pytest.approx(100 / 3)
    assert result.mean_return == pytest.approx(225.0)
    result.write_json(tmp_path / "r.json")
    result.write_csv(tmp_path / "r.csv")
    back = EvalResult.read_json(tmp_path / "r.json")
    np.testing.assert_array_equal(back.returns, result.returns)
    assert back.summary() == result.summary()
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "task,a,b,return,mastered"
    assert lines[1] == "0,0.0,1.0,245.0,1"


def test_eval_cli_on_a_run_folder(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trained = json.loads((run_dir / "eval_final_uniform.json").read_text())  # written by train
    assert main(["eval", str(run_dir), "--no-progress", "--n-envs", "2"]) == 0
    out = capsys.readouterr().out
    assert "% mastered" in out and "50 tasks" in out
    data = json.loads((run_dir / "eval_final_uniform.json").read_text())
    assert data["n_tasks"] == 50 and data["env_id"] == ENV
    # The final model evaluated again gives the final evaluation of training (same seeds).
    assert data["returns"] == trained["returns"]
    assert len((run_dir / "eval_final_uniform.csv").read_text().splitlines()) == 51

    # A checkpoint's evaluation is named after the checkpoint, never after "latest".
    assert main(["eval", str(run_dir), "--checkpoint", "latest", "--no-progress"]) == 0
    assert (run_dir / "eval_step_000000000128_uniform.json").is_file()

    out_path = run_dir.parent / "latest.csv"
    argv = ["eval", str(run_dir), "--checkpoint", "latest", "--episodes", "2"]
    assert main([*argv, "--out", str(out_path), "--no-progress"]) == 0
    assert len(out_path.read_text().splitlines()) == 51


def test_eval_cli_with_a_model_file(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = run_dir / "final_model.zip"
    out_path = run_dir.parent / "model_eval.json"
    argv = ["eval", "--model", str(model), "--env", ENV, "--env-kwarg", "max_episode_steps=20"]
    assert main([*argv, "--out", str(out_path), "--no-progress"]) == 0
    assert json.loads(out_path.read_text())["n_tasks"] == 50
    assert "Per-task returns written to" in capsys.readouterr().out


def test_eval_of_a_run_does_not_import_its_teacher_module(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Evaluation never uses the teacher: a module that registered it need not be importable."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    stored = json.loads((copy / "config.json").read_text())
    stored["config"]["imports"] = ["no_such_teacher_module_xyz"]
    stored["config"]["teacher"] = "frontier"  # registered by that module only
    (copy / "config.json").write_text(json.dumps(stored))
    assert main(["eval", str(copy), "--no-progress", "--n-envs", "1"]) == 0
    assert "50 tasks" in capsys.readouterr().out

    # An env that only the missing module registers: a clear error, not a traceback.
    stored["config"]["env_id"] = "my_envs/Thing-v0"
    (copy / "config.json").write_text(json.dumps(stored))
    assert main(["eval", str(copy), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "my_envs/Thing-v0" in err and "no_such_teacher_module_xyz" in err
    assert "Traceback" not in err


def test_eval_help_shows_a_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "%%" not in out and "report the % of tasks mastered" in " ".join(out.split())
    assert "--n-envs N" in out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "%%" not in out and "% of an env's fixed test set" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give a RUN_DIR, or both --model FILE.zip and --env ENV"),
        (["--model", "m.zip"], "give a RUN_DIR, or both"),
        (["RUN", "--env", ENV], "RUN_DIR has its own model and env; drop --env"),
        (["RUN", "--kind", "grid"], "kind='grid' needs a 2-D parameter space"),
        (["RUN", "--out", "x.txt"], "--out must end in .csv or .json"),
        (["NOT_A_RUN"], "is not a teachgym run folder"),
        (["--model", "missing.zip", "--env", ENV], "no saved model at missing.zip"),
        (["RUN", "--checkpoint", "first"], "invalid choice: 'first'"),
        (["RUN", "--n-envs", "0"], "--n-envs: expected a positive integer; got 0"),
    ],
)
def test_eval_cli_bad_input(
    argv: list[str],
    message: str,
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [str(run_dir) if a == "RUN" else str(tmp_path) if a == "NOT_A_RUN" else a for a in argv]
    assert main(["eval", *argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
