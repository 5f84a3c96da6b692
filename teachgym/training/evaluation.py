"""Test-set evaluation: % of a fixed set of params mastered by the deterministic policy
(``docs/design.md``, "Runs and evaluation").

The protocol is the paper's (Portelas et al. 2019, §5): a fixed, seeded set of params per env
(``teachgym.envs.test_set``: 50 uniform draws, or the 10 × 10 grid of a 2-D space); one
episode per task by default, greedy actions; a task is *mastered* when its return is above the
env's ``mastery_threshold`` (Stump Tracks: 230). With ``episodes > 1`` a task's return is the
mean over its episodes.

Episode ``j`` of task ``i`` is reset with a seed fixed by ``(i, j)`` alone, so every run and
every checkpoint meets the same layouts and the numbers are comparable across teachers.
Episodes run in ``n_parallel`` envs in this process, stepped in lockstep so the policy sees one
batch of observations per step.

Evaluating needs a policy, not the trainer: this module imports neither
``teachgym.training.trainer`` nor stable-baselines3's training code (``evaluate_run`` loads a
saved model through ``teachgym.agents.sb3.load_model`` when it is called).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from teachgym._progress import progress_task
from teachgym.checks import check_int
from teachgym.envs.factory import make_env
from teachgym.state_io import write_json_atomically
from teachgym.training.config import TrainConfig
from teachgym.training.runs import RunDir, write_csv_atomically

__all__ = ["EVAL_SEED", "EvalResult", "episode_seed", "evaluate", "evaluate_run", "load_tasks"]

#: Root of the per-episode evaluation seeds (part of the benchmark definition, like the test set).
EVAL_SEED = 4_2019


@dataclass
class EvalResult:
    """Returns of a policy on a fixed set of tasks.

    Attributes:
        env_id: The env evaluated.
        kind: ``"uniform"``, ``"grid"`` or ``"custom"`` (tasks given by the caller).
        param_names: Names of the task vectors' entries.
        tasks: ``(n_tasks, dim)`` params, in the env's units.
        returns: ``(n_tasks, episodes)`` undiscounted returns.
        mastery_threshold: A task is mastered when its mean return is above this.
    """

    env_id: str
    kind: str
    param_names: list[str]
    tasks: np.ndarray
    returns: np.ndarray
    mastery_threshold: float

    @property
    def task_returns(self) -> np.ndarray:
        """Each task's mean return over its episodes."""
        return np.asarray(self.returns.mean(axis=1))

    @property
    def mastered(self) -> np.ndarray:
        """Whether each task is mastered (mean return > ``mastery_threshold``)."""
        return np.asarray(self.task_returns > self.mastery_threshold)

    @property
    def mastered_pct(self) -> float:
        """% of tasks mastered."""
        return float(100.0 * self.mastered.mean()) if len(self.tasks) else 0.0

    @property
    def mean_return(self) -> float:
        """Mean return over every episode."""
        return float(self.returns.mean()) if self.returns.size else float("nan")

    def task_rows(self) -> list[dict[str, Any]]:
        """One dict per task: ``task``, each param, ``return`` (mean), ``mastered``."""
        rows = []
        for index, (params, value, mastered) in enumerate(
            zip(self.tasks, self.task_returns, self.mastered, strict=True)
        ):
            row: dict[str, Any] = {"task": index}
            row.update(zip(self.param_names, (float(p) for p in params), strict=True))
            row["return"] = float(value)
            row["mastered"] = int(mastered)
            rows.append(row)
        return rows

    def summary(self) -> dict[str, Any]:
        """The headline numbers."""
        return {
            "env_id": self.env_id,
            "kind": self.kind,
            "n_tasks": len(self.tasks),
            "episodes_per_task": int(self.returns.shape[1]) if self.returns.ndim == 2 else 0,
            "mastery_threshold": self.mastery_threshold,
            "mastered_pct": self.mastered_pct,
            "mean_return": self.mean_return,
        }

    def to_dict(self) -> dict[str, Any]:
        """Summary plus per-task params and every episode's return (JSON-ready)."""
        return {
            **self.summary(),
            "param_names": list(self.param_names),
            "tasks": self.tasks.tolist(),
            "returns": self.returns.tolist(),
        }

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """Per-task rows (``task_rows``) as CSV, written atomically."""
        columns = ["task", *self.param_names, "return", "mastered"]
        write_csv_atomically(Path(path), columns, self.task_rows())

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """``to_dict()`` as JSON, written atomically."""
        write_json_atomically(Path(path), self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        """Rebuild from ``to_dict()``."""
        return cls(
            env_id=str(data["env_id"]),
            kind=str(data["kind"]),
            param_names=list(data["param_names"]),
            tasks=np.asarray(data["tasks"], dtype=np.float64).reshape(len(data["tasks"]), -1),
            returns=np.asarray(data["returns"], dtype=np.float64).reshape(len(data["tasks"]), -1),
            mastery_threshold=float(data["mastery_threshold"]),
        )

    @classmethod
    def read_json(cls, path: str | os.PathLike[str]) -> EvalResult:
        """Read a file written by ``write_json``."""
        return cls.from_dict(json.loads(Path(path).read_text()))


def episode_seed(task_index: int, episode: int) -> int:
    """The reset seed of episode ``episode`` of task ``task_index`` (fixed across runs)."""
    sequence = np.random.SeedSequence([EVAL_SEED, task_index, episode])
    return int(sequence.generate_state(1)[0])


def load_tasks(
    env_id: str, kind: str = "uniform", env_kwargs: dict[str, Any] | None = None
) -> np.ndarray:
    """The env's fixed test set (``teachgym.envs.test_set``).

    Raises:
        ValueError: unknown env id or kind, or ``"grid"`` on a space that is not 2-D.
    """
    from teachgym.envs import test_set

    return test_set(env_id, kind, **(env_kwargs or {}))


def evaluate(
    model: Any,
    env_id: str,
    *,
    env_kwargs: dict[str, Any] | None = None,
    obs_wrapper: str = "auto",
    kind: str = "uniform",
    tasks: np.ndarray | None = None,
    episodes: int = 1,
    n_parallel: int = 8,
    imports: Sequence[str] = (),
    deterministic: bool = True,
    progress: bool = False,
) -> EvalResult:
    """Run ``model``'s policy on the env's fixed test set.

    Args:
        model: Anything with SB3's ``predict(obs, deterministic=...)`` taking a batch.
        env_id: The env id the model was trained on.
        env_kwargs: As in training (same bounds, same time limit).
        obs_wrapper: As in training (``obs`` of ``teachgym.envs.make_env``).
        kind: ``"uniform"`` or ``"grid"`` test set; ignored when ``tasks`` is given.
        tasks: Params to evaluate instead of the test set, ``(n, dim)``.
        episodes: Episodes per task (≥ 1).
        n_parallel: Envs stepped in lockstep.
        imports: Modules to import before making the env (user envs).
        deterministic: Greedy actions (the protocol); ``False`` samples.
        progress: Show a progress bar (one tick per finished episode).

    Raises:
        ValueError: bad ``kind``, ``episodes`` or ``tasks``.
    """
    episodes = check_int("episodes", episodes, minimum=1)
    if tasks is None:
        tasks = load_tasks(env_id, kind, env_kwargs)
    else:
        kind = "custom"

    def new_env() -> Any:
        return make_env(env_id, obs=obs_wrapper, env_kwargs=env_kwargs, imports=imports)

    envs = [new_env()]
    base = envs[0].unwrapped
    space = base.param_space  # type: ignore[attr-defined]
    tasks = np.asarray(tasks, dtype=np.float64).reshape(-1, space.dim)
    for params in tasks:
        space.to_vector(params)  # a task outside the bounds fails here, naming the parameter
    jobs = [(task, episode) for task in range(len(tasks)) for episode in range(episodes)]
    envs += [new_env() for _ in range(min(n_parallel, len(jobs)) - 1)]
    returns = np.zeros((len(tasks), episodes), dtype=np.float64)
    running: list[tuple[int, int] | None] = [None] * len(envs)
    observations: list[Any] = [None] * len(envs)
    sums = np.zeros(len(envs), dtype=np.float64)
    queue = iter(jobs)

    def start(slot: int) -> None:
        job = next(queue, None)
        running[slot] = job
        if job is not None:
            task, episode = job
            options = {"params": tasks[task]}
            observations[slot], _ = envs[slot].reset(
                seed=episode_seed(task, episode), options=options
            )
            sums[slot] = 0.0

    try:
        with progress_task(f"evaluating {env_id}", len(jobs), enabled=progress) as bar:
            for slot in range(len(envs)):
                start(slot)
            while True:
                active = [slot for slot, job in enumerate(running) if job is not None]
                if not active:
                    break
                actions, _ = model.predict(
                    _stack([observations[slot] for slot in active]), deterministic=deterministic
                )
                for slot, action in zip(active, actions, strict=True):
                    observation, reward, terminated, truncated, _ = envs[slot].step(action)
                    observations[slot] = observation
                    sums[slot] += float(reward)
                    if terminated or truncated:
                        task_index, episode = running[slot]  # type: ignore[misc]
                        returns[task_index, episode] = sums[slot]
                        bar.advance()
                        start(slot)
    finally:
        for env in envs:
            env.close()
    return EvalResult(
        env_id=env_id,
        kind=kind,
        param_names=list(space.names),
        tasks=tasks,
        returns=returns,
        mastery_threshold=float(base.mastery_threshold),  # type: ignore[attr-defined]
    )


def evaluate_run(
    run_dir: str | os.PathLike[str],
    *,
    checkpoint: str = "final",
    kind: str | None = None,
    episodes: int | None = None,
    device: str = "auto",
    progress: bool = False,
) -> EvalResult:
    """Evaluate a run folder's model on its env's test set.

    Args:
        run_dir: A folder written by ``teachgym.training.train``.
        checkpoint: ``"final"`` (``final_model.zip``, else the latest checkpoint) or
            ``"latest"`` (the newest complete checkpoint).
        kind: Test set kind; ``None`` uses the run's ``eval_kind``.
        episodes: Episodes per task; ``None`` uses the run's ``eval_episodes`` (at least 1).
        device: Where the policy runs.
        progress: Show a progress bar.

    Raises:
        teachgym.training.runs.NotARunError: not a run folder.
        ValueError: the run has no model yet, or a bad argument.
    """
    from teachgym.agents.sb3 import load_model  # torch and SB3 load only here

    run = RunDir.open(run_dir)
    config = TrainConfig.from_dict(run.read_config()["config"])
    if checkpoint not in ("final", "latest"):
        raise ValueError(f"checkpoint must be 'final' or 'latest'; got {checkpoint!r}")
    model_path: Path | None = run.final_model_file
    if checkpoint == "latest" or not run.final_model_file.is_file():
        latest = run.latest_checkpoint()
        model_path = None if latest is None else latest.file(latest.MODEL_FILE)
    if model_path is None:
        raise ValueError(f"run {run.path} has no saved model yet (no final model, no checkpoint)")
    model = load_model(str(model_path), config.algorithm, device=device)
    return evaluate(
        model,
        config.env_id,
        env_kwargs=config.env_kwargs,
        obs_wrapper=config.obs_wrapper,
        kind=kind or config.eval_kind,
        episodes=episodes or max(1, config.eval_episodes),
        imports=config.imports,
        progress=progress,
    )


def _stack(observations: list[Any]) -> Any:
    """A batch from single observations (arrays or SB3-style dicts of arrays)."""
    if isinstance(observations[0], dict):
        return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}
    return np.stack(observations)
