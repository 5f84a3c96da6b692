"""Training through ``teachgym train`` and the API: run folder, resume, determinism, bad configs.

Budgets are tiny (a few hundred steps of PPO with a 16-unit net on GridNavigation capped at 20
steps an episode): these tests check behaviour, not learning.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _tiny_training import ENV, TINY_ARGS

from teachgym import state_io
from teachgym.cli import main
from teachgym.envs import param_space
from teachgym.training import (
    TrainConfig,
    Trainer,
    capture_rng_state,
    derive_seeds,
    restore_rng_state,
    train,
)
from teachgym.training.plots import run_figures
from teachgym.training.runs import RunDir

torch.set_num_threads(1)


def tiny_config(run_dir: Path, **overrides: object) -> TrainConfig:
    """The API twin of ``TINY_ARGS``."""
    values: dict[str, object] = {
        "env_id": ENV,
        "env_kwargs": {"max_episode_steps": 20},
        "n_envs": 2,
        "algorithm_kwargs": {
            "n_steps": 32,
            "batch_size": 32,
            "n_epochs": 1,
            "policy_kwargs": {"net_arch": [16]},
        },
        "teacher_kwargs": {"fit_rate": 20, "max_components": 3},
        "total_timesteps": 256,
        "eval_episodes": 0,
        "checkpoint_interval": 0,
        "torch_threads": 1,
        "run_dir": str(run_dir),
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def history_of(run_dir: Path) -> dict[str, np.ndarray]:
    return state_io.load(run_dir / "curriculum.npz")


# ---------------------------------------------------------------------------------- CLI train
def test_train_cli_writes_a_complete_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    argv = ["train", ENV, *TINY_ARGS, "--steps", "512", "--eval-interval", "256"]
    argv += ["--checkpoint-interval", "128", "--keep-checkpoints", "2", "--out", str(run_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Trained 512 steps" in out and "% mastered" in out

    stored = json.loads((run_dir / "config.json").read_text())
    assert stored["format"] == "teachgym-run/1"
    assert stored["config"]["env_id"] == ENV
    assert stored["config"]["teacher"] == "alp-gmm" and stored["config"]["algorithm"] == "ppo"
    assert stored["config"]["teacher_kwargs"] == {"fit_rate": 20, "max_components": 3}
    assert stored["resolved"]["obs_wrapper"] == "flat"  # auto → flat for a MiniGrid family
    assert stored["resolved"]["policy"] == "MlpPolicy"
    assert stored["resolved"]["seeds"] == derive_seeds(0)
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert stored["resolved"]["device"].startswith(expected_device)
    assert (run_dir / "command.txt").read_text().startswith("teachgym train teachgym/Grid")

    # Checkpoints: the newest two, each complete; latest.json names the newest.
    checkpoints = RunDir(run_dir).checkpoints()
    assert [c.step for c in checkpoints] == [384, 512]
    for checkpoint in checkpoints:
        assert {"model.zip", "teacher.npz", "state.npz"} <= set(checkpoint.files)
    latest = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == 512

    # Teacher state, episode history and counters agree.
    teacher_state = state_io.load(run_dir / "teacher.npz")
    history = history_of(run_dir)
    assert teacher_state["n_updates"] == len(history["steps"]) > 0
    assert np.all(np.diff(history["steps"]) >= 0) and history["steps"][-1] <= 512
    assert np.all((history["scores"] >= 0) & (history["scores"] <= 1))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["num_timesteps"] == 512 and summary["episodes"] == len(history["steps"])

    # Evaluation at 0, every 256 steps and at the end; per-task results for the final one.
    rows = RunDir(run_dir).read_eval_rows()
    assert [row["step"] for row in rows] == [0, 256, 512]
    assert all(row["n_tasks"] == 50 and 0 <= row["mastered_pct"] <= 100 for row in rows)
    assert (run_dir / "eval.csv").read_text().splitlines()[1].startswith("0,0,")
    final = json.loads((run_dir / "eval_final_uniform.json").read_text())
    assert final["n_tasks"] == 50 and len(final["returns"]) == 50
    assert len((run_dir / "eval_final_uniform.csv").read_text().splitlines()) == 51

    # TensorBoard events with the teacher's and the evaluation's metrics; plots; final model.
    events = b"".join(path.read_bytes() for path in (run_dir / "tb").glob("events.out.*"))
    for tag in (b"teacher/n_updates", b"teacher/mean_score", b"eval/mastered_pct"):
        assert tag in events
    for name in ("teacher_samples.png", "learning_curve.png"):
        assert (run_dir / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    # What the pictures show is this run's own data: its evaluations and sampled params.
    figures = run_figures(run_dir)
    mastery, _ = figures[RunDir(run_dir).learning_curve_plot].axes
    (mastered,) = mastery.get_lines()
    np.testing.assert_array_equal(mastered.get_xdata(), [0, 256, 512])
    np.testing.assert_array_equal(mastered.get_ydata(), [row["mastered_pct"] for row in rows])
    panels = [
        axis
        for axis in figures[RunDir(run_dir).teacher_samples_plot].axes
        if axis.get_label() != "<colorbar>" and axis.collections
    ]
    samples = np.concatenate([np.asarray(axis.collections[0].get_offsets()) for axis in panels[:4]])
    np.testing.assert_array_equal(samples, history["params"][:, :2])
    assert not (run_dir / "plots" / "mastery_map.png").exists()  # 4-D space: no map
    assert (run_dir / "final_model.zip").is_file()


def test_resume_through_the_cli_extends_a_finished_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    argv = ["train", ENV, *TINY_ARGS, "--steps", "256", "--eval-interval", "128"]
    assert main([*argv, "--eval-episodes", "1", "--out", str(run_dir)]) == 0
    before = history_of(run_dir)
    assert main(["train", "--resume", str(run_dir), "--steps", "512", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Resuming" in out and "step 256" in out
    after = history_of(run_dir)
    # The history before the checkpoint is kept exactly, then grows.
    count = len(before["steps"])
    assert len(after["steps"]) > count
    np.testing.assert_array_equal(after["params"][:count], before["params"])
    np.testing.assert_array_equal(after["scores"][:count], before["scores"])
    assert state_io.load(run_dir / "teacher.npz")["n_updates"] == len(after["steps"])
    assert [row["step"] for row in RunDir(run_dir).read_eval_rows()] == [0, 128, 256, 384, 512]
    stored = json.loads((run_dir / "config.json").read_text())
    assert stored["config"]["total_timesteps"] == 512
    assert stored["resumes"] == [{"from_step": 256, "checkpoint": "step_000000000256"}]
    commands = (run_dir / "command.txt").read_text().splitlines()
    assert len(commands) == 2 and "--resume" in commands[1]
    assert json.loads((run_dir / "summary.json").read_text())["num_timesteps"] == 512


def test_resume_restores_teacher_counters_and_rng_from_the_checkpoint(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train(tiny_config(run_dir, total_timesteps=384, checkpoint_interval=128), progress=False)
    # Make the older checkpoint the newest one, as if the run had been killed after it.
    run = RunDir(run_dir)
    newest = run.latest_checkpoint()
    assert newest is not None and newest.step == 384
    (newest.path / "checkpoint.json").unlink()
    checkpoint = run.latest_checkpoint()
    assert checkpoint is not None and checkpoint.step == 256
    saved_state = state_io.load(checkpoint.path / "state.npz")
    saved_teacher = state_io.load(checkpoint.path / "teacher.npz")

    trainer = Trainer.resume(run_dir, progress=False)
    try:
        assert trainer.num_timesteps == saved_state["num_timesteps"] == 256
        assert trainer.episodes == saved_state["episodes"]
        assert (
            len(trainer.history) == saved_teacher["n_updates"] == saved_state["teacher_n_updates"]
        )
        # The curriculum already drew each sub-env's pending params from the restored teacher.
        assert trainer.teacher.n_samples == saved_teacher["n_samples"] + 2
        np.testing.assert_array_equal(
            capture_rng_state(trainer.model)["torch"], saved_state["rng"]["torch"]
        )
        result = trainer.learn()
    finally:
        trainer.close()
    assert result.num_timesteps == 384
    assert result.teacher.n_updates == len(history_of(run_dir)["steps"])


def test_rng_state_round_trip() -> None:
    import random

    class Model:
        action_space = None

    state = capture_rng_state(Model())
    first = (random.random(), np.random.random(), torch.rand(1).item())  # noqa: NPY002
    restore_rng_state(state, Model())
    assert (random.random(), np.random.random(), torch.rand(1).item()) == first  # noqa: NPY002


# ---------------------------------------------------------------------------------- determinism
def test_same_seed_same_curriculum_and_first_updates(tmp_path: Path) -> None:
    results = [
        train(tiny_config(tmp_path / name, seed=seed), progress=False)
        for name, seed in (("a", 3), ("b", 3), ("c", 4))
    ]
    first, second, other = (history_of(tmp_path / name) for name in "abc")
    assert len(first["steps"]) > 10
    for key in ("steps", "params", "scores", "returns"):
        np.testing.assert_array_equal(first[key], second[key])
    assert not np.array_equal(first["params"][:5], other["params"][:5])
    # Same first PPO updates: identical weights after training.
    for p, q in zip(
        results[0].model.policy.parameters(), results[1].model.policy.parameters(), strict=True
    ):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert any(
        not torch.equal(p, q)
        for p, q in zip(
            results[0].model.policy.parameters(), results[2].model.policy.parameters(), strict=True
        )
    )


def test_derived_seeds_are_distinct_and_stable() -> None:
    seeds = derive_seeds(0)
    assert len(set(seeds.values())) == 3
    assert derive_seeds(0) == seeds != derive_seeds(1)


# ---------------------------------------------------------------------------------- other students
def test_dqn_checkpoints_its_replay_buffer_and_resumes(tmp_path: Path) -> None:
    run_dir = tmp_path / "dqn"
    config = tiny_config(
        run_dir,
        algorithm="dqn",
        algorithm_kwargs={
            "learning_starts": 64,
            "buffer_size": 1000,
            "batch_size": 16,
            "policy_kwargs": {"net_arch": [16]},
        },
        teacher="random",
        teacher_kwargs={},
        checkpoint_interval=128,
    )
    train(config, progress=False)
    checkpoint = RunDir(run_dir).latest_checkpoint()
    assert checkpoint is not None and "replay_buffer.pkl" in checkpoint.files
    trainer = Trainer.resume(run_dir, total_timesteps=320, progress=False)
    try:
        # 256 steps over 2 envs = 128 slots: the final checkpoint holds every transition the
        # final model learned from.
        assert trainer.model.replay_buffer.size() == 128  # type: ignore[attr-defined]
        assert trainer.learn().num_timesteps == 320
    finally:
        trainer.close()


# ---------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--teacher", "nope"], "unknown teacher 'nope'; available teachers: alp-gmm"),
        (["--algo", "nope"], "unknown algorithm 'nope'; available algorithms: a2c"),
        (["--algo", "sac"], "does not support teachgym/GridNavigation-v0's action space"),
        (["--teacher-kwarg", "bogus=1"], "has no hyperparameter(s) ['bogus']"),
        (["--teacher-kwarg", "random_ratio=2"], "random_ratio"),
        (["--algo-kwarg", "bogus=1"], "PPO has no argument(s) ['bogus']; it accepts:"),
        (["--algo-kwarg", "seed=1"], "algorithm_kwargs may not set ['seed']"),
        (["--obs", "pixels"], "unknown obs_wrapper 'pixels'; expected one of: auto, none"),
        (["--device", "tpu"], "unknown device 'tpu'; expected one of: auto, cpu, cuda"),
        (["--eval-kind", "grid"], "kind='grid' needs a 2-D parameter space"),
        (["--env-kwarg", "no_such_option=1"], "bad env_kwargs"),
        (["--import", "no_such_module_xyz"], "cannot import 'no_such_module_xyz'"),
        (["--n-envs", "0"], "--n-envs: expected a positive integer; got 0"),
        (["--vec-env", "ray"], "invalid choice: 'ray'"),
    ],
)
def test_bad_config_fails_before_training(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", ENV, *TINY_ARGS, *extra, "--out", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not run_dir.exists()  # nothing written


def test_unknown_env_and_missing_env(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "teachgym/Nope-v0", "--no-progress", "--out", str(tmp_path / "r")]) == 2
    assert "teachgym envs: teachgym/" in capsys.readouterr().err
    assert main(["train", "--no-progress"]) == 2
    assert "give the ENV id" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", ENV, *TINY_ARGS, "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert "sees no CUDA GPU" in capsys.readouterr().err


def test_existing_run_folder_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    assert main(["train", ENV, *TINY_ARGS, "--out", str(run_dir)]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in run_dir.iterdir()] == ["notes.txt"]


def test_resume_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--resume", str(tmp_path), "--no-progress"]) == 2
    assert "is not a teachgym run folder" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing"), "--no-progress"]) == 2
    assert "not a teachgym run folder" in capsys.readouterr().err

    run_dir = tmp_path / "run"
    RunDir.create(run_dir, {"config": tiny_config(run_dir).to_dict()})
    assert main(["train", "--resume", str(run_dir), "--no-progress"]) == 2
    assert "no complete checkpoint to resume from" in capsys.readouterr().err

    argv = ["train", "--resume", str(run_dir), "--teacher", "random", "--seed", "2"]
    assert main(argv) == 2
    assert "--teacher, --seed cannot be changed" in capsys.readouterr().err


def test_config_validation_and_json_round_trip(tmp_path: Path) -> None:
    config = tiny_config(tmp_path)
    config.validate()
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({**config.to_dict(), "learning_rate": 1})
    for field, value, message in (
        ("total_timesteps", 0, "total_timesteps must be a positive integer; got 0"),
        ("vec_env", "ray", "expected one of: dummy, subproc"),
        ("eval_episodes", -1, "eval_episodes must be an integer >= 0; got -1"),
        ("torch_threads", 0, "torch_threads must be a positive integer or None; got 0"),
        ("seed", True, "seed must be an integer >= 0; got True"),
        ("env_kwargs", [], "env_kwargs must be a dict"),
    ):
        bad = tiny_config(tmp_path, **{field: value})
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            bad.validate()


def test_user_registered_teacher_trains_by_name(tmp_path: Path) -> None:
    from teachgym import teachers

    class Corner(teachers.Teacher):
        """Always the low corner."""

        def _sample(self) -> np.ndarray:
            return self.param_space.low.copy()

        def _update(self, params: np.ndarray, score: float) -> None:
            pass

    teachers.register("test-corner", Corner, overwrite=True)
    train(tiny_config(tmp_path / "run", teacher="test-corner", teacher_kwargs={}), progress=False)
    params = history_of(tmp_path / "run")["params"]
    low = param_space(ENV).low
    assert len(params) > 0
    np.testing.assert_array_equal(params, np.tile(low, (len(params), 1)))


def test_policy_classes_are_named_in_json_configs(tmp_path: Path) -> None:
    kwargs = {"n_steps": 32, "batch_size": 32, "n_epochs": 1}
    with pytest.raises(ValueError, match="plain JSON data"):
        tiny_config(
            tmp_path, algorithm_kwargs={**kwargs, "policy_kwargs": {"activation_fn": torch.nn.Tanh}}
        ).validate()
    config = tiny_config(
        tmp_path / "run",
        total_timesteps=64,
        algorithm_kwargs={**kwargs, "policy_kwargs": {"activation_fn": "Tanh", "net_arch": [8]}},
    )
    result = train(config, progress=False)
    assert result.model.policy.activation_fn is torch.nn.Tanh  # type: ignore[attr-defined]
    bad = {**kwargs, "policy_kwargs": {"activation_fn": "Nope"}}
    with pytest.raises(ValueError, match=r"is not a class in torch\.nn"):
        train(tiny_config(tmp_path / "bad", algorithm_kwargs=bad), progress=False)
    assert not (tmp_path / "bad").exists()


def test_cli_imports_a_module_that_registers_a_teacher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_teachers_for_cli.py").write_text(
        "import numpy as np\n"
        "from teachgym import teachers\n\n"
        "class High(teachers.Teacher):\n"
        "    def _sample(self):\n"
        "        return self.param_space.high.copy()\n\n"
        "    def _update(self, params, score):\n"
        "        pass\n\n"
        "teachers.register('test-high', High, overwrite=True)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    run_dir = tmp_path / "run"
    argv = ["train", ENV, *TINY_ARGS, "--import", "my_teachers_for_cli", "--teacher", "test-high"]
    argv += ["--steps", "128", "--eval-episodes", "0", "--out", str(run_dir)]
    # The ALP-GMM hyperparameters of TINY_ARGS do not apply to this teacher: drop them.
    argv = [a for a in argv if a not in ("fit_rate=20", "max_components=3", "--teacher-kwarg")]
    assert main(argv) == 0
    stored = json.loads((run_dir / "config.json").read_text())
    assert stored["config"]["imports"] == ["my_teachers_for_cli"]
    params = history_of(run_dir)["params"]
    np.testing.assert_array_equal(params, np.tile(param_space(ENV).high, (len(params), 1)))
