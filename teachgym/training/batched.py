"""The batched backend: on-device PPO with the teacher in the loop, in the same run folder.

``TrainConfig(backend="batched")`` (``teachgym train ENV --backend batched``) trains
``teachgym.agents.ppo.BatchedPPO`` on the env's batched version (``teachgym.envs.batched``, the
id's Gymnasium ``vector_entry_point``) under a ``teachgym.teachers.curriculum_batched.
BatchedCurriculum``. Everything else is the stable-baselines3 trainer's (``Trainer``, which
``BatchedTrainer`` extends): the run folder and its files, ``eval.csv`` and the test-set
evaluation on the *MiniGrid-based* env (the canonical evaluation stays on the reference envs; the
PPO reads MiniGrid's own ``Dict`` observations there), checkpoints, resume after a kill, the
teacher's plots and the summary.

One rollout is ``n_steps`` steps of every env. The curriculum refills finished envs' pending
params after each step and hands the rollout's episodes to ``teacher.update_batch`` after it;
evaluations and checkpoints that fall due run between rollouts, after the update, so what is
evaluated or saved at step N is the policy training reached at N. TensorBoard gets, per rollout,
``rollout/`` (episode return and length), ``train/`` (PPO's losses, KL, clip fraction, explained
variance, learning rate), ``teacher/`` (the curriculum's metrics) and ``time/`` (steps per
second and the seconds spent in the env, the policy's forward passes, the update and the
teacher); the summary keeps the time breakdown.

Resume rebuilds the env from ``(seed, step)`` (running episodes are dropped, as in the
stable-baselines3 backend), restores the model (weights, optimiser, generator, counters) and the
teacher, and continues the learning-rate schedule to the new total.

``train`` and ``resume`` here are the package's (``teachgym.training.train``): they pick the
trainer from the config's ``backend``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.logger import configure

from teachgym import state_io, teachers
from teachgym._progress import progress_task
from teachgym.agents.ppo import BatchedPPO, PPOConfig
from teachgym.agents.sb3 import resolve_device
from teachgym.envs.factory import register_ids
from teachgym.teachers.curriculum_batched import BatchedCurriculum
from teachgym.training.config import TrainConfig, derive_seeds
from teachgym.training.evaluation import EvalResult, evaluate
from teachgym.training.runs import RunDir
from teachgym.training.trainer import (
    EpisodeHistory,
    Trainer,
    TrainResult,
    _env_facts,
    _log_formats,
    _next_multiple,
    _set_torch_threads,
    _this_command,
    _versions,
    open_checkpoint,
    record_resume,
    restore_books,
    resume_env_seed,
)

__all__ = ["BatchedTrainer", "batched_env_ids", "make_trainer", "resume", "resume_trainer", "train"]


# ---------------------------------------------------------------------------------- dispatch
def make_trainer(
    config: TrainConfig, *, command: str | None = None, progress: bool = True
) -> Trainer:
    """``Trainer.new`` or ``BatchedTrainer.new``, as ``config.backend`` says."""
    cls = BatchedTrainer if config.backend == "batched" else Trainer
    return cls.new(config, command=command, progress=progress)


def resume_trainer(run_dir: str | Path, **overrides: Any) -> Trainer:
    """``Trainer.resume`` or ``BatchedTrainer.resume``, as the run's stored backend says."""
    stored = RunDir.open(run_dir).read_config().get("config", {})
    cls = BatchedTrainer if stored.get("backend") == "batched" else Trainer
    return cls.resume(run_dir, **overrides)


def train(config: TrainConfig, *, command: str | None = None, progress: bool = True) -> TrainResult:
    """Train a student in a teacher's curriculum with the config's ``backend``; write the run
    folder (``teachgym.training.runs``).

    Args:
        config: The run's configuration.
        command: The command line recorded in ``command.txt`` (default: this process's).
        progress: Show a progress bar.

    Raises:
        ValueError: a bad config, found before training starts (nothing is written then).
    """
    trainer = make_trainer(config, command=command, progress=progress)
    try:
        return trainer.learn()
    finally:
        trainer.close()


def resume(
    run_dir: str | Path,
    *,
    total_timesteps: int | None = None,
    device: str | None = None,
    torch_threads: int | None = None,
    command: str | None = None,
    progress: bool = True,
) -> TrainResult:
    """Continue a run of either backend from its last complete checkpoint until
    ``total_timesteps``.

    Args:
        run_dir: The run folder.
        total_timesteps: New total (≥ the checkpoint's step); ``None`` keeps the config's.
        device: Run on another device than the config's.
        torch_threads: Override the config's ``torch_threads``.
        command: Recorded in ``command.txt``.
        progress: Show a progress bar.

    Raises:
        teachgym.training.runs.NotARunError: ``run_dir`` is not a run folder.
        ValueError: the run has no complete checkpoint, or a bad override.
    """
    trainer = resume_trainer(
        run_dir,
        total_timesteps=total_timesteps,
        device=device,
        torch_threads=torch_threads,
        command=command,
        progress=progress,
    )
    try:
        return trainer.learn()
    finally:
        trainer.close()


def batched_env_ids() -> list[str]:
    """The registered env ids with a batched version (a Gymnasium ``vector_entry_point``)."""
    import teachgym.envs  # noqa: F401  (registers the teachgym/ ids)

    return sorted(
        env_id
        for env_id, spec in gym.registry.items()
        if env_id.startswith("teachgym/") and spec.vector_entry_point is not None
    )


# ---------------------------------------------------------------------------------- trainer
class BatchedTrainer(Trainer):
    """A built run of the batched backend, ready to ``learn()`` (see the module docstring).

    ``model`` is a ``BatchedPPO``, ``curriculum`` a ``BatchedCurriculum``; the rest is
    ``Trainer``'s.
    """

    model: BatchedPPO  # type: ignore[assignment]
    curriculum: BatchedCurriculum  # type: ignore[assignment]

    @classmethod
    def new(
        cls, config: TrainConfig, *, command: str | None = None, progress: bool = True
    ) -> BatchedTrainer:
        """Check ``config``, build everything, then create the run folder.

        Raises:
            ValueError: anything wrong with the config, an env without a batched version
                included (nothing is written then).
        """
        config = dataclasses.replace(config)
        config.validate()
        _set_torch_threads(config.torch_threads)
        run_path = Path(config.run_dir or config.default_run_dir())
        RunDir(run_path).check_new()
        config.run_dir = str(run_path)
        facts = _batched_facts(config)
        seeds = derive_seeds(config.seed)
        teacher = teachers.make(
            config.teacher, facts["param_space"], seed=seeds["teacher"], **config.teacher_kwargs
        )
        device = resolve_device(config.device)
        env = _make_env(config, seed=seeds["env"], device=device)
        curriculum = BatchedCurriculum(env, teacher)
        ppo_config = PPOConfig.from_kwargs(config.algorithm_kwargs)
        model = BatchedPPO(env, ppo_config, seed=seeds["model"], device=device)
        stored = {
            "config": config.to_dict(),
            "resolved": {
                "backend": "batched",
                "n_envs": env.num_envs,
                "obs_wrapper": "none",
                "policy": f"BatchedPPO/{ppo_config.network}",
                "algorithm_kwargs": dataclasses.asdict(ppo_config),
                "device": str(model.device),
                "seeds": seeds,
                "param_space": facts["param_space"].to_json(),
                "return_range": list(facts["return_range"]),
                "mastery_threshold": facts["mastery_threshold"],
            },
            "versions": _versions(),
        }
        run = RunDir.create(run_path, stored, command or _this_command())
        model.logger = configure(str(run.tensorboard_dir), _log_formats(config))
        history = EpisodeHistory(facts["param_space"].dim)
        return cls(
            config,
            run,
            teacher,
            curriculum,  # type: ignore[arg-type]
            model,  # type: ignore[arg-type]
            history,
            [],
            fresh=True,
            progress=progress,
        )

    @classmethod
    def resume(
        cls,
        run_dir: str | Path,
        *,
        total_timesteps: int | None = None,
        device: str | None = None,
        torch_threads: int | None = None,
        command: str | None = None,
        progress: bool = True,
    ) -> BatchedTrainer:
        """Rebuild a batched run from its newest complete checkpoint (see the module
        docstring)."""
        run, stored, config, checkpoint, state = open_checkpoint(
            run_dir, total_timesteps=total_timesteps, device=device, torch_threads=torch_threads
        )
        facts = _batched_facts(config)
        seeds = derive_seeds(config.seed)
        teacher = teachers.make(
            config.teacher, facts["param_space"], seed=seeds["teacher"], **config.teacher_kwargs
        )
        teacher.load_state_dict(state_io.load(checkpoint.teacher_file))
        resolved_device = resolve_device(config.device)
        env = _make_env(
            config, seed=resume_env_seed(config.seed, checkpoint.step), device=resolved_device
        )
        curriculum = BatchedCurriculum(env, teacher)
        curriculum.episodes = int(state["episodes"])
        model = BatchedPPO.load(checkpoint.model_file, env=env, device=resolved_device)
        history, eval_rows = restore_books(run, state, facts["param_space"].dim)
        record_resume(run, stored, config, checkpoint, command or _this_command())
        model.logger = configure(str(run.tensorboard_dir), _log_formats(config))
        trainer = cls(
            config,
            run,
            teacher,
            curriculum,  # type: ignore[arg-type]
            model,  # type: ignore[arg-type]
            history,
            eval_rows,
            fresh=False,
            progress=progress,
        )
        trainer.resumed_from = checkpoint
        return trainer

    # ------------------------------------------------------------------ training
    @property
    def episodes(self) -> int:
        """Episodes reported to the teacher so far."""
        return int(self.curriculum.episodes)

    def learn(self) -> TrainResult:
        """Train until ``config.total_timesteps`` (whole rollouts), then write the final model,
        evaluation, plots and summary."""
        config = self.config
        with progress_task(
            "training",
            self._expected_final_step(),
            completed=self.num_timesteps,
            enabled=self.progress,
        ) as bar:
            if self.fresh and config.eval_interval > 0 and config.eval_episodes > 0:
                self.evaluate_now()
            if config.total_timesteps > self.num_timesteps:
                self.model.set_observation(self.curriculum.reset())
                hooks = _RunHooks(self, bar)
                self.model.learn(config.total_timesteps, callback=hooks, reset_num_timesteps=False)
            bar.update(self.num_timesteps)
            return self._finish()

    def _expected_final_step(self) -> int:
        remaining = self.config.total_timesteps - self.num_timesteps
        if remaining <= 0:
            return max(self.config.total_timesteps, self.num_timesteps)
        rollout = self.model.config.n_steps * self.curriculum.num_envs
        return self.num_timesteps + -(-remaining // rollout) * rollout

    def _evaluate(self, kind: str, description: str) -> EvalResult:
        config = self.config
        return evaluate(
            self.model,
            config.env_id,
            env_kwargs=config.env_kwargs,
            obs_wrapper="none",  # the PPO reads MiniGrid's own Dict observations
            kind=kind,
            episodes=max(1, config.eval_episodes),
            n_envs=config.eval_n_envs,
            vec_env=config.eval_vec_env,
            imports=config.imports,
            progress=self.progress,
            description=description,
        )

    def record_finished(self, finished: Any) -> None:
        """Add a rollout's finished episodes (``FinishedEpisodes``) to the history."""
        history = self.history
        history.steps.extend(finished.steps.tolist())
        history.params.extend(finished.params)
        history.scores.extend(finished.scores.tolist())
        history.returns.extend(finished.returns.tolist())

    def timing(self) -> dict[str, float]:
        """Seconds per part of training so far (this process), and the teacher's share."""
        times = self.model.times.as_dict()
        teacher = times.get("teacher_s", 0.0)
        # Training time: everything but the test-set evaluations and checkpoints.
        total = sum(times[key] for key in ("env_s", "policy_s", "update_s", "hooks_s"))
        total -= times.get("eval_checkpoint_s", 0.0)
        times["train_s"] = total
        times["teacher_share"] = teacher / total if total else float("nan")
        return times

    def _finish(self) -> TrainResult:
        result = super()._finish()
        summary = json.loads(self.run.summary_file.read_text())
        summary["backend"] = "batched"
        summary["timing"] = self.timing()
        state_io.write_json_atomically(self.run.summary_file, summary)
        return result


class _RunHooks:
    """``BatchedPPO``'s hooks for a run: the curriculum's books each step, the teacher's update,
    history, logs and progress each rollout, evaluations and checkpoints between rollouts."""

    def __init__(self, trainer: BatchedTrainer, bar: Any) -> None:
        self.trainer = trainer
        self.bar = bar
        config = trainer.config
        self._eval_every = config.eval_interval if config.eval_episodes > 0 else 0
        self._checkpoint_every = config.checkpoint_interval
        start = trainer.num_timesteps
        self._next_eval = _next_multiple(start, self._eval_every)
        self._next_checkpoint = _next_multiple(start, self._checkpoint_every)
        self._rollout_started = time.perf_counter()
        self._rollout_step = start
        self._curriculum_s = 0.0

    def on_rollout_start(self, agent: BatchedPPO) -> None:
        started = time.perf_counter()
        step = agent.num_timesteps
        if self._eval_every and step >= self._next_eval:
            self.trainer.evaluate_now()
            self._next_eval = _next_multiple(step, self._eval_every)
        if self._checkpoint_every and step >= self._next_checkpoint:
            self.trainer.save_checkpoint()
            self._next_checkpoint = _next_multiple(step, self._checkpoint_every)
        self._rollout_started = time.perf_counter()
        self._rollout_step = step
        extra = agent.times.extra
        extra["eval_checkpoint_s"] = extra.get("eval_checkpoint_s", 0.0) + (
            self._rollout_started - started
        )

    def on_step(self, agent: BatchedPPO, info: dict[str, Any], done: torch.Tensor) -> None:
        started = time.perf_counter()
        self.trainer.curriculum.on_step(info, done, agent.num_timesteps)
        extra = agent.times.extra
        extra["curriculum_s"] = extra.get("curriculum_s", 0.0) + time.perf_counter() - started

    def on_rollout_end(self, agent: BatchedPPO) -> bool:
        trainer = self.trainer
        started = time.perf_counter()
        finished = trainer.curriculum.end_rollout()
        teacher_s = time.perf_counter() - started
        extra = agent.times.extra
        extra["teacher_s"] = extra.get("teacher_s", 0.0) + teacher_s
        extra["curriculum_s"] = extra.get("curriculum_s", 0.0) + teacher_s
        trainer.record_finished(finished)
        logger = agent.logger
        if len(finished):
            logger.record("rollout/ep_rew_mean", float(finished.returns.mean()))
            logger.record("rollout/ep_len_mean", float(finished.lengths.mean()))
            logger.record("rollout/episodes", len(finished))
        for key, value in agent.last_metrics.items():
            logger.record(f"train/{key}", value)
        for key, value in trainer.curriculum.metrics().items():
            logger.record(f"teacher/{key}", value)
        elapsed = time.perf_counter() - self._rollout_started
        steps = agent.num_timesteps - self._rollout_step
        logger.record("time/fps", steps / elapsed if elapsed > 0 else float("nan"))
        for key, value in trainer.timing().items():
            logger.record(f"time/{key}", value)
        logger.dump(agent.num_timesteps)
        self.bar.update(agent.num_timesteps)
        return True


# ---------------------------------------------------------------------------------- helpers
def _batched_facts(config: TrainConfig) -> dict[str, Any]:
    """``_env_facts`` of the MiniGrid-based env (test set, return range, threshold), after
    checking that the id has a batched version with the same params.

    Raises:
        ValueError: the id has no batched version (naming the ids that have one).
    """
    register_ids(config.env_id, tuple(config.imports))
    spec = gym.registry.get(config.env_id)
    if spec is None or spec.vector_entry_point is None:
        raise ValueError(
            f"env {config.env_id!r} has no batched version for the batched backend; envs with "
            f"one: {', '.join(batched_env_ids())} (or use --backend sb3)"
        )
    return _env_facts(dataclasses.replace(config, obs_wrapper="none"))


def _make_env(config: TrainConfig, *, seed: int, device: str) -> Any:
    """The batched env of ``config.env_id`` (torch interface) on ``device``.

    Raises:
        ValueError: bad ``env_kwargs`` for the batched family.
    """
    env = gym.make_vec(
        config.env_id,
        num_envs=config.resolved_n_envs,
        vectorization_mode="vector_entry_point",
        device=device,
        seed=seed,
        **config.env_kwargs,
    )
    return env
