"""Train a stable-baselines3 student inside a teacher's curriculum, with a run folder, periodic
checkpoints, test-set evaluation and resume (``docs/design.md``, "Curriculum plumbing",
"Agents", "Runs and evaluation").

::

    from teachgym.training import TrainConfig, train, resume

    config = TrainConfig(
        env_id="teachgym/GridNavigation-v0", teacher="alp-gmm", algorithm="ppo",
        total_timesteps=200_000, eval_interval=20_000, run_dir="runs/nav-alpgmm",
    )
    result = train(config)            # writes runs/nav-alpgmm/ (see teachgym.training.runs)
    print(result.evaluation.mastered_pct)
    resume("runs/nav-alpgmm", total_timesteps=400_000)   # continue, teacher history intact

``TrainConfig`` is defined in the light ``teachgym.training.config`` (the CLI reads its defaults
without importing torch) and re-exported here.

The pieces: ``make_vec_env`` builds ``n_envs`` sub-envs (``DummyVecEnv`` or ``SubprocVecEnv``)
from ``teachgym.envs.env_factory``, with the observation wrapper SB3 needs;
``CurriculumVecEnv`` puts the teacher on top (in this process); the SB3 algorithm learns on
that; ``TeacherLoggerCallback`` writes ``teacher/`` metrics to the same TensorBoard logger;
``RunCallback`` records each finished episode for the plots, evaluates and checkpoints on
schedule, and drives the progress bar.

Evaluations. ``eval.csv`` is the run's history: one row per evaluated step, appended, never
rewritten (``RunDir.append_eval_row``). Evaluations and checkpoints that fall due during a
rollout wait for its policy update (they run when the next rollout starts), so whatever is
evaluated or saved at step N, periodically or at the end, is the one policy training reached at
N, and the final checkpoint holds the model of the final evaluation. The test-set episodes run
on a vector env of one sub-env per CPU core (``teachgym.training.evaluation``).

Seeding. ``seed`` is split with ``numpy.random.SeedSequence`` into independent seeds for the
teacher, the sub-envs and the model, so the teacher's stream never coincides with an env's
domain-randomisation stream. SB3's ``set_random_seed`` (called by every algorithm with its
seed) seeds Python's ``random``, NumPy's *global* generator and torch's global generator: that
is the only global RNG use, it is SB3's, and checkpoints save and restore those states.

Resume. A checkpoint holds the model, the teacher's full state, the RNG states above, the step
and episode counters, the episode history and the evaluation rows. Resuming restores the teacher
*before* wrapping the env, so ``CurriculumVecEnv`` sends every sub-env fresh pending params from
the restored teacher; SB3 continues with ``learn(..., reset_num_timesteps=False)``. Episodes
running at the checkpoint are dropped (sub-env states are not saved); the sub-envs are reseeded
from ``(seed, step)``, so a resumed run is reproducible but is not the bit-identical
continuation of an uninterrupted one. ``eval.csv`` stays as it is, rows after the checkpoint
included (a run killed after an evaluation keeps it), and the resumed run evaluates only the
steps it has no row for.
"""

from __future__ import annotations

import dataclasses
import math
import random
import shlex
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from teachgym import state_io, teachers
from teachgym._progress import progress_task
from teachgym.agents import sb3
from teachgym.envs.factory import env_factory, make_env, resolve_obs
from teachgym.state_io import write_json_atomically
from teachgym.teachers.base import Teacher
from teachgym.teachers.curriculum import EPISODE_RETURN_KEY, TEACHER_SCORE_KEY
from teachgym.teachers.curriculum_sb3 import CurriculumVecEnv, TeacherLoggerCallback
from teachgym.training.config import EVAL_KINDS, VEC_ENV_CHOICES, TrainConfig, derive_seeds
from teachgym.training.evaluation import EvalResult, evaluate, load_tasks
from teachgym.training.runs import FINAL_MODEL, Checkpoint, RunDir

__all__ = [
    "EVAL_KINDS",
    "VEC_ENV_CHOICES",
    "EpisodeHistory",
    "RunCallback",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "capture_rng_state",
    "derive_seeds",
    "restore_rng_state",
]

_CHECKPOINT_FORMAT = 1


def resume_env_seed(seed: int, step: int) -> int:
    """Sub-env seed after a resume at ``step``: fresh layouts, reproducible from the run."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0]) % (2**31)


def open_checkpoint(
    run_dir: str | Path,
    *,
    total_timesteps: int | None,
    device: str | None,
    torch_threads: int | None,
) -> tuple[RunDir, dict[str, Any], TrainConfig, Checkpoint, dict[str, Any]]:
    """A run folder, its stored config, the config with the overrides (validated), its newest
    complete checkpoint and that checkpoint's trainer state: what every backend's resume reads.

    Raises:
        teachgym.training.runs.NotARunError: ``run_dir`` is not a run folder.
        ValueError: no complete checkpoint, a bad override, or a total below the checkpoint.
    """
    run = RunDir.open(run_dir)
    stored = run.read_config()
    config = TrainConfig.from_dict(stored["config"])
    if total_timesteps is not None:
        config.total_timesteps = total_timesteps
    if device is not None:
        config.device = device
    if torch_threads is not None:
        config.torch_threads = torch_threads
    config.validate()
    _set_torch_threads(config.torch_threads)
    checkpoint = run.latest_checkpoint()
    if checkpoint is None:
        raise ValueError(
            f"run {run.path} has no complete checkpoint to resume from; start it again"
        )
    if config.total_timesteps < checkpoint.step:
        raise ValueError(
            f"total_timesteps {config.total_timesteps} is below the checkpoint's step "
            f"{checkpoint.step}"
        )
    return run, stored, config, checkpoint, state_io.load(checkpoint.state_file)


def restore_books(
    run: RunDir, state: dict[str, Any], dim: int
) -> tuple[EpisodeHistory, list[dict[str, float]]]:
    """The episode history of a checkpoint's trainer state, and the run's evaluation rows."""
    history = EpisodeHistory.from_state(state["history"], dim)
    # eval.csv is the record, rows after the checkpoint included; the checkpoint's copy only
    # stands in for a file that is gone.
    eval_rows = run.read_eval_rows()
    if not eval_rows:
        for row in state["eval_rows"]:
            run.append_eval_row({key: float(value) for key, value in row.items()})
        eval_rows = run.read_eval_rows()
    return history, eval_rows


def record_resume(
    run: RunDir, stored: dict[str, Any], config: TrainConfig, checkpoint: Checkpoint, command: str
) -> None:
    """Note a resume in the run's ``config.json`` and ``command.txt``."""
    stored["config"] = config.to_dict()
    stored.setdefault("resumes", []).append(
        {"from_step": checkpoint.step, "checkpoint": checkpoint.path.name}
    )
    run.write_config(stored)
    run.append_command(command)


class EpisodeHistory:
    """Every episode the teacher was told about: step it ended at, params, score, raw return.

    The plots read it, checkpoints carry it, and its length equals the teacher's ``n_updates``.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.steps: list[int] = []
        self.params: list[np.ndarray] = []
        self.scores: list[float] = []
        self.returns: list[float] = []

    def __len__(self) -> int:
        return len(self.steps)

    def append(self, step: int, params: np.ndarray, score: float, raw_return: float) -> None:
        """Record one finished episode."""
        self.steps.append(int(step))
        self.params.append(np.asarray(params, dtype=np.float64).reshape(self.dim))
        self.scores.append(float(score))
        self.returns.append(float(raw_return))

    def state_dict(self) -> dict[str, Any]:
        """Plain arrays for ``teachgym.state_io``."""
        return {
            "steps": np.asarray(self.steps, dtype=np.int64),
            "params": np.asarray(self.params, dtype=np.float64).reshape(-1, self.dim),
            "scores": np.asarray(self.scores, dtype=np.float64),
            "returns": np.asarray(self.returns, dtype=np.float64),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], dim: int) -> EpisodeHistory:
        """Rebuild from ``state_dict()``."""
        history = cls(dim)
        history.steps = [int(step) for step in np.asarray(state["steps"]).reshape(-1)]
        history.params = list(np.asarray(state["params"], dtype=np.float64).reshape(-1, dim))
        history.scores = [float(s) for s in np.asarray(state["scores"]).reshape(-1)]
        history.returns = [float(r) for r in np.asarray(state["returns"]).reshape(-1)]
        if not len(history.steps) == len(history.params) == len(history.scores):
            raise ValueError("episode history arrays have different lengths")
        return history


@dataclass
class TrainResult:
    """What ``train`` and ``resume`` return.

    Attributes:
        run_dir: The run folder.
        num_timesteps: Steps trained (SB3's counter).
        episodes: Episodes reported to the teacher.
        evaluation: The final test-set evaluation (``None`` when ``eval_episodes`` is 0).
        model: The trained SB3 model.
        teacher: The teacher, with its whole history.
    """

    run_dir: Path
    num_timesteps: int
    episodes: int
    evaluation: EvalResult | None
    model: BaseAlgorithm
    teacher: Teacher


class Trainer:
    """A built training run: envs, teacher, model and run folder, ready to ``learn()``.

    Build with ``Trainer.new(config)`` or ``Trainer.resume(run_dir)``; both check everything
    before returning, so a ``Trainer`` that exists will start training.
    """

    def __init__(
        self,
        config: TrainConfig,
        run: RunDir,
        teacher: Teacher,
        curriculum: CurriculumVecEnv,
        model: BaseAlgorithm,
        history: EpisodeHistory,
        eval_rows: list[dict[str, float]],
        *,
        fresh: bool,
        progress: bool,
    ) -> None:
        self.config = config
        self.run = run
        self.teacher = teacher
        self.curriculum = curriculum
        self.model = model
        self.history = history
        self.eval_rows = eval_rows
        self.fresh = fresh
        self.progress = progress
        #: The checkpoint this trainer was resumed from (``None`` for a new run).
        self.resumed_from: Checkpoint | None = None
        self._closed = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def new(
        cls, config: TrainConfig, *, command: str | None = None, progress: bool = True
    ) -> Trainer:
        """Check ``config``, build everything, then create the run folder.

        Raises:
            ValueError: anything wrong with the config (nothing is written then).
        """
        config = dataclasses.replace(config)
        config.validate()
        _set_torch_threads(config.torch_threads)
        run_path = Path(config.run_dir or config.default_run_dir())
        RunDir(run_path).check_new()  # before building anything
        config.run_dir = str(run_path)
        facts = _env_facts(config)
        seeds = derive_seeds(config.seed)
        teacher = teachers.make(
            config.teacher, facts["param_space"], seed=seeds["teacher"], **config.teacher_kwargs
        )
        cls._check_algorithm(config, facts)
        curriculum = _make_curriculum(config, teacher, env_seed=seeds["env"])
        try:  # close the sub-envs (maybe processes) if anything below fails
            model = sb3.build_model(
                config.algorithm,
                curriculum,
                policy=config.policy,
                seed=seeds["model"],
                device=config.device,
                verbose=config.verbose,
                **config.algorithm_kwargs,
            )
            stored = {
                "config": config.to_dict(),
                "resolved": {
                    "obs_wrapper": facts["obs_wrapper"],
                    "policy": config.policy or sb3.default_policy(model.observation_space),
                    "device": str(model.device),
                    "seeds": seeds,
                    "param_space": facts["param_space"].to_json(),
                    "return_range": list(facts["return_range"]),
                    "mastery_threshold": facts["mastery_threshold"],
                },
                "versions": _versions(),
            }
            run = RunDir.create(run_path, stored, command or _this_command())
            model.set_logger(configure(str(run.tensorboard_dir), _log_formats(config)))
        except BaseException:
            curriculum.close()
            raise
        history = EpisodeHistory(facts["param_space"].dim)
        return cls(
            config, run, teacher, curriculum, model, history, [], fresh=True, progress=progress
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
    ) -> Trainer:
        """Rebuild a run from its newest complete checkpoint (see ``resume``)."""
        run, stored, config, checkpoint, state = open_checkpoint(
            run_dir, total_timesteps=total_timesteps, device=device, torch_threads=torch_threads
        )
        facts = _env_facts(config)
        seeds = derive_seeds(config.seed)
        teacher = teachers.make(
            config.teacher, facts["param_space"], seed=seeds["teacher"], **config.teacher_kwargs
        )
        # Restore the teacher *before* wrapping: CurriculumVecEnv samples each sub-env's pending
        # params at construction, and they must come from the restored teacher.
        teacher.load_state_dict(state_io.load(checkpoint.teacher_file))
        curriculum = _make_curriculum(
            config, teacher, env_seed=resume_env_seed(config.seed, checkpoint.step)
        )
        curriculum.ledger.episodes = int(state["episodes"])
        try:
            model = sb3.load_model(
                str(checkpoint.model_file),
                config.algorithm,
                env=curriculum,
                device=config.device,
            )
            buffer_path = checkpoint.replay_buffer_file
            if buffer_path is not None and hasattr(model, "load_replay_buffer"):
                model.load_replay_buffer(str(buffer_path))
        except BaseException:
            curriculum.close()
            raise
        # SB3's load re-runs set_random_seed(model.seed); the saved states win.
        restore_rng_state(state["rng"], model)
        # The saved last observation belongs to episodes that no longer exist: make SB3 reset
        # the (new) sub-envs at the start of learn(), which starts the teacher's episodes.
        model._last_obs = None  # type: ignore[assignment]
        model.num_timesteps = int(state["num_timesteps"])
        history, eval_rows = restore_books(run, state, facts["param_space"].dim)
        record_resume(run, stored, config, checkpoint, command or _this_command())
        model.set_logger(configure(str(run.tensorboard_dir), _log_formats(config)))
        trainer = cls(
            config,
            run,
            teacher,
            curriculum,
            model,
            history,
            eval_rows,
            fresh=False,
            progress=progress,
        )
        trainer.resumed_from = checkpoint
        return trainer

    @staticmethod
    def _check_algorithm(config: TrainConfig, facts: dict[str, Any]) -> None:
        cls = sb3.algorithm_class(config.algorithm)
        sb3.check_action_space(config.algorithm, facts["action_space"], config.env_id)
        sb3.check_algorithm_kwargs(cls, config.algorithm_kwargs)

    # ------------------------------------------------------------------ training
    @property
    def num_timesteps(self) -> int:
        """Steps trained so far."""
        return int(self.model.num_timesteps)

    @property
    def episodes(self) -> int:
        """Episodes reported to the teacher so far."""
        return int(self.curriculum.ledger.episodes)

    def learn(self) -> TrainResult:
        """Train until ``config.total_timesteps``, then write the final model, evaluation,
        plots and summary."""
        config = self.config
        with progress_task(
            "training",
            self._expected_final_step(),
            completed=self.num_timesteps,
            enabled=self.progress,
        ) as bar:
            if self.fresh and config.eval_interval > 0 and config.eval_episodes > 0:
                self.evaluate_now()
            remaining = config.total_timesteps - self.num_timesteps
            if remaining > 0:
                callback = CallbackList(
                    [TeacherLoggerCallback(self.curriculum), RunCallback(self, bar)]
                )
                self.model.learn(
                    remaining, callback=callback, reset_num_timesteps=False, progress_bar=False
                )
            bar.update(self.num_timesteps)
            return self._finish()

    def _expected_final_step(self) -> int:
        """Where ``learn`` will stop: on-policy algorithms collect whole rollouts of
        ``n_steps × n_envs``, so they overshoot ``total_timesteps`` (the progress bar's total)."""
        remaining = self.config.total_timesteps - self.num_timesteps
        if remaining <= 0 or not isinstance(self.model, OnPolicyAlgorithm):
            return max(self.config.total_timesteps, self.num_timesteps)
        rollout = self.model.n_steps * self.model.n_envs
        return self.num_timesteps + math.ceil(remaining / rollout) * rollout

    def record_episodes(self, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Add the episodes that just ended (as ``CurriculumVecEnv`` reported them)."""
        step = self.num_timesteps
        for index in np.flatnonzero(dones).tolist():
            info = infos[index]
            if TEACHER_SCORE_KEY in info:
                self.history.append(
                    step, info["params"], info[TEACHER_SCORE_KEY], info[EPISODE_RETURN_KEY]
                )

    def evaluate_now(self, *, final: bool = False) -> EvalResult | None:
        """Evaluate the current policy on the test set; append its row to ``eval.csv`` and log
        ``eval/mastered_pct`` and ``eval/mean_return``.

        A step that ``eval.csv`` already has (a resumed run passing a step its first life
        evaluated) is not evaluated again (``None``), except for the ``final`` evaluation, whose
        per-task returns the run's files need; its row is then left as it is.
        """
        step = self.num_timesteps
        recorded = any(row["step"] == step for row in self.eval_rows)
        if recorded and not final:
            return None
        result = self._evaluate(self.config.eval_kind, f"evaluating at step {step:,}")
        row = {
            "step": float(step),
            "episodes": float(self.episodes),
            "mastered_pct": result.mastered_pct,
            "mean_return": result.mean_return,
            "n_tasks": float(len(result.tasks)),
        }
        if not recorded and self.run.append_eval_row(row):
            self.eval_rows.append(row)
            self.model.logger.record("eval/mastered_pct", result.mastered_pct)
            self.model.logger.record("eval/mean_return", result.mean_return)
        return result

    def _evaluate(self, kind: str, description: str) -> EvalResult:
        config = self.config
        return evaluate(
            self.model,
            config.env_id,
            env_kwargs=config.env_kwargs,
            obs_wrapper=config.obs_wrapper,
            kind=kind,
            episodes=max(1, config.eval_episodes),
            n_envs=config.eval_n_envs,
            vec_env=config.eval_vec_env,
            imports=config.imports,
            progress=self.progress,
            description=description,
        )

    def save_checkpoint(self) -> Checkpoint:
        """Write a checkpoint of everything needed to resume (atomically, see ``training.runs``)."""
        model, teacher = self.model, self.teacher
        save_buffer = (
            self.config.save_replay_buffer
            and getattr(model, "replay_buffer", None) is not None
            and hasattr(model, "save_replay_buffer")
        )

        def write(folder: Path) -> list[str]:
            model.save(folder / Checkpoint.MODEL_FILE)
            state_io.save(teacher.state_dict(), folder / Checkpoint.TEACHER_FILE)
            state_io.save(self.state_dict(), folder / Checkpoint.STATE_FILE)
            files = [Checkpoint.MODEL_FILE, Checkpoint.TEACHER_FILE, Checkpoint.STATE_FILE]
            if save_buffer:
                model.save_replay_buffer(folder / Checkpoint.REPLAY_BUFFER_FILE)  # type: ignore[attr-defined]
                files.append(Checkpoint.REPLAY_BUFFER_FILE)
            return files

        return self.run.save_checkpoint(
            self.num_timesteps, write, keep=self.config.keep_checkpoints
        )

    def state_dict(self) -> dict[str, Any]:
        """Counters, RNG states, episode history and evaluation rows (plain data)."""
        return {
            "format_version": _CHECKPOINT_FORMAT,
            "num_timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "teacher_n_updates": int(self.teacher.n_updates),
            "teacher_n_samples": int(self.teacher.n_samples),
            "rng": capture_rng_state(self.model),
            "history": self.history.state_dict(),
            "eval_rows": [dict(row) for row in self.eval_rows],
        }

    def close(self) -> None:
        """Close the envs (sub-processes included)."""
        if not self._closed:
            self._closed = True
            self.curriculum.close()

    # ------------------------------------------------------------------ the end of a run
    def _finish(self) -> TrainResult:
        from teachgym.training.plots import write_run_plots  # matplotlib loads only here

        config, run = self.config, self.run
        evaluation = grid = None
        if config.eval_episodes > 0:
            # Before the final checkpoint, so the checkpoint's copy of eval.csv has this row.
            evaluation = self.evaluate_now(final=True)
            if config.mastery_map and self.teacher.param_space.dim == 2:
                grid = evaluation if config.eval_kind == "grid" else self.evaluate_grid()
        self.save_checkpoint()
        self.model.save(run.final_model_file)
        state_io.save(self.teacher.state_dict(), run.teacher_file)
        state_io.save(self.history.state_dict(), run.curriculum_file)
        for result in (evaluation, None if grid is evaluation else grid):
            if result is not None:  # the names `teachgym eval RUN_DIR` writes too
                csv_path, json_path = run.eval_files(FINAL_MODEL, result.kind)
                result.write_csv(csv_path)
                result.write_json(json_path)
        self.model.logger.dump(self.num_timesteps)
        write_run_plots(run.path)
        summary = {
            "num_timesteps": self.num_timesteps,
            "episodes": self.episodes,
            "teacher_n_updates": int(self.teacher.n_updates),
            "final_evaluation": None if evaluation is None else evaluation.summary(),
        }
        write_json_atomically(run.summary_file, summary)
        return TrainResult(
            run_dir=run.path,
            num_timesteps=self.num_timesteps,
            episodes=self.episodes,
            evaluation=evaluation,
            model=self.model,
            teacher=self.teacher,
        )

    def evaluate_grid(self) -> EvalResult:
        """The 10 × 10 grid evaluation for the mastery map (not added to ``eval.csv``)."""
        return self._evaluate("grid", f"evaluating the grid at step {self.num_timesteps:,}")


class RunCallback(BaseCallback):
    """Records finished episodes, evaluates and checkpoints on schedule, moves the progress bar.

    Schedules are in SB3 steps (``num_timesteps``, summed over sub-envs); an interval is due
    when the counter crosses a multiple of it, so resumed runs keep the same grid of steps.
    What falls due runs when the next rollout starts, after the policy update that ends the
    current one (SB3 calls ``on_step`` while collecting, before that update): an evaluation or
    checkpoint at step N then sees the policy training reached at N, as the final ones do.

    Args:
        trainer: The run.
        bar: The training progress line.
    """

    def __init__(self, trainer: Trainer, bar: Any) -> None:
        super().__init__(verbose=0)
        self.trainer = trainer
        self.bar = bar
        config = trainer.config
        self._eval_every = config.eval_interval if config.eval_episodes > 0 else 0
        self._checkpoint_every = config.checkpoint_interval
        start = trainer.num_timesteps
        self._next_eval = _next_multiple(start, self._eval_every)
        self._next_checkpoint = _next_multiple(start, self._checkpoint_every)

    def _on_step(self) -> bool:
        self.trainer.record_episodes(self.locals["dones"], self.locals["infos"])
        self.bar.update(self.num_timesteps)
        return True

    def _on_rollout_start(self) -> None:
        step = self.num_timesteps
        if self._eval_every and step >= self._next_eval:
            self.trainer.evaluate_now()
            self._next_eval = _next_multiple(step, self._eval_every)
        if self._checkpoint_every and step >= self._next_checkpoint:
            self.trainer.save_checkpoint()
            self._next_checkpoint = _next_multiple(step, self._checkpoint_every)


def _next_multiple(step: int, every: int) -> int:
    return (step // every + 1) * every if every else 0


# ---------------------------------------------------------------------------------- RNG states
def capture_rng_state(model: Any) -> dict[str, Any]:
    """The global generators SB3 seeds (Python ``random``, NumPy's global, torch CPU/CUDA) and
    the model's action-space generator, as plain data."""
    version, internal, gauss_next = random.getstate()
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()  # type: ignore[misc]  # noqa: NPY002 (SB3 seeds it)
    state: dict[str, Any] = {
        "python_random": {
            "version": version,
            "internal": np.asarray(internal, dtype=np.uint64),
            "gauss_next": gauss_next,
        },
        "numpy_global": {
            "name": name,
            "keys": np.asarray(keys),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "torch": torch.get_rng_state().numpy(),
        "torch_cuda": [],
        "action_space": None,
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["torch_cuda"] = [s.numpy() for s in torch.cuda.get_rng_state_all()]
    generator = getattr(getattr(model, "action_space", None), "_np_random", None)
    if generator is not None:
        state["action_space"] = generator.bit_generator.state
    return state


def restore_rng_state(state: dict[str, Any], model: Any) -> None:
    """Put back what ``capture_rng_state`` saved."""
    python = state["python_random"]
    random.setstate(
        (
            int(python["version"]),
            tuple(int(v) for v in np.asarray(python["internal"])),
            python["gauss_next"],
        )
    )
    numpy_state = state["numpy_global"]
    np.random.set_state(  # noqa: NPY002 (SB3 seeds and uses the global generator)
        (
            str(numpy_state["name"]),
            np.asarray(numpy_state["keys"], dtype=np.uint32),
            int(numpy_state["position"]),
            int(numpy_state["has_gauss"]),
            float(numpy_state["cached_gaussian"]),
        )
    )
    torch.set_rng_state(torch.from_numpy(np.asarray(state["torch"], dtype=np.uint8)))
    cuda_states = state.get("torch_cuda") or []
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(
            [torch.from_numpy(np.asarray(s, dtype=np.uint8)) for s in cuda_states]
        )
    action_space_state = state.get("action_space")
    space = getattr(model, "action_space", None)
    if action_space_state is not None and space is not None:
        generator = np.random.default_rng()
        generator.bit_generator.state = action_space_state
        space._np_random = generator


# ---------------------------------------------------------------------------------- helpers
def _env_facts(config: TrainConfig) -> dict[str, Any]:
    """Make the env once: its param space, return range, threshold and spaces; and check the
    test set exists when evaluation is on. Raises ``ValueError`` for any problem."""
    env = make_env(
        config.env_id, obs=config.obs_wrapper, env_kwargs=config.env_kwargs, imports=config.imports
    )
    try:
        base = env.unwrapped
        space = getattr(base, "param_space", None)
        if space is None or not hasattr(base, "set_next_params"):
            raise ValueError(
                f"env {config.env_id} is not a teachgym parameterized env (no param_space / "
                "set_next_params); a teacher cannot configure its episodes"
            )
        facts = {
            "param_space": space,
            "return_range": tuple(float(v) for v in base.return_range),  # type: ignore[attr-defined]
            "mastery_threshold": float(base.mastery_threshold),  # type: ignore[attr-defined]
            "action_space": env.action_space,
            "observation_space": env.observation_space,
            "obs_wrapper": resolve_obs(base.observation_space, config.obs_wrapper),
        }
    finally:
        env.close()
    if config.eval_episodes > 0:
        load_tasks(config.env_id, config.eval_kind, config.env_kwargs)
    return facts


def _make_curriculum(config: TrainConfig, teacher: Teacher, *, env_seed: int) -> CurriculumVecEnv:
    make_one = env_factory(
        config.env_id,
        obs=config.obs_wrapper,
        env_kwargs=config.env_kwargs,
        imports=tuple(config.imports),
    )
    venv = make_vec_env(
        make_one,
        n_envs=config.resolved_n_envs,
        seed=env_seed,
        vec_env_cls=SubprocVecEnv if config.vec_env == "subproc" else DummyVecEnv,
    )
    try:
        return CurriculumVecEnv(venv, teacher)
    except BaseException:
        venv.close()
        raise


def _set_torch_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


def _log_formats(config: TrainConfig) -> list[str]:
    formats = ["stdout"] if config.verbose else []
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        warnings.warn(
            "tensorboard is not installed, so the run has no TensorBoard logs: pip install "
            '"teachgym[train]"',
            stacklevel=3,
        )
    else:
        formats.append("tensorboard")
    return formats


def _this_command() -> str:
    return shlex.join([Path(sys.executable).name, *sys.argv])


def _versions() -> dict[str, str]:
    import gymnasium
    import stable_baselines3

    from teachgym import __version__

    return {
        "teachgym": __version__,
        "python": sys.version.split()[0],
        "gymnasium": gymnasium.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
