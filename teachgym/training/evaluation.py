"""Test-set evaluation: % of a fixed set of params mastered by the deterministic policy
(``docs/design.md``, "Runs and evaluation").

The protocol is the paper's (Portelas et al. 2019, §5): a fixed, seeded set of params per env
(``teachgym.envs.test_set``: 50 uniform draws, or the 10 × 10 grid of a 2-D space); one
episode per task by default, greedy actions; a task is *mastered* when its return is above the
env's ``mastery_threshold`` (Stump Tracks: 230). With ``episodes > 1`` a task's return is the
mean over its episodes.

Episode ``j`` of task ``i`` is reset with a seed fixed by ``(i, j)`` alone, so every run and
every checkpoint meets the same layouts and the numbers are comparable across teachers.

The episodes run on a Gymnasium vector env of ``n_envs`` sub-envs (by default one per CPU core,
each in its own process), so env steps run in parallel and the policy sees one batch of
observations per step. Each sub-env takes the next episode as soon as it finishes one: it is
reset alone (``reset_mask``) with that episode's seed and ``options={"params": ...}``, the call a
single env gets, so the returns are the ones of evaluating each task on its own, whatever the
number of sub-envs, for a policy whose action for an observation does not depend on the rest of
its batch (``tests/training/test_evaluation.py``). A torch network's output may change in the
last bit with the batch size, which can change continuous actions, and then the returns of a
chaotic env (Stump Tracks), from one ``n_envs`` to another. Sub-envs left without an episode
keep playing until the last one ends; their returns are not counted.

Evaluating needs a policy, not the trainer: this module imports neither
``teachgym.training.trainer`` nor stable-baselines3's training code (``evaluate_run`` loads a
saved model through ``teachgym.agents.sb3.load_model`` when it is called), and
``evaluate_run`` reads the run's config without importing the modules that registered its
teacher.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from teachgym._progress import progress_task
from teachgym.checks import check_choice, check_int, check_optional_int
from teachgym.envs.factory import env_factory, make_env
from teachgym.state_io import write_json_atomically
from teachgym.training.config import VEC_ENV_CHOICES, TrainConfig, resolve_imports
from teachgym.training.runs import RunDir, write_csv_atomically

__all__ = [
    "EVAL_SEED",
    "EvalResult",
    "env_imports",
    "episode_seed",
    "evaluate",
    "evaluate_run",
    "load_tasks",
    "run_settings",
]

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
    n_envs: int | None = None,
    vec_env: str = "subproc",
    imports: Sequence[str] = (),
    deterministic: bool = True,
    torch_threads: int | None = 1,
    progress: bool = False,
    description: str | None = None,
    n_parallel: int | None = None,
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
        n_envs: Sub-envs of the vector env, the episodes played at once; ``None``: one per CPU
            core (``os.cpu_count()``). Never more than the episodes to play.
        vec_env: ``"subproc"``: each sub-env in its own process (Gymnasium's
            ``AsyncVectorEnv``); ``"dummy"``: all in this process (``SyncVectorEnv``), the
            faster choice for cheap envs on a machine with few free cores. The returns are the
            same either way.
        imports: Modules to import before making the env (user envs).
        deterministic: Greedy actions (the protocol); ``False`` samples.
        torch_threads: Threads torch may use while the policy evaluates (restored after);
            ``None`` leaves torch's setting. One is the fastest for the small batches here: more
            threads wait on each other and on the sub-env processes for the same cores.
        progress: Show a progress bar (one tick per finished episode).
        description: The progress bar's text (default: ``"evaluating <env_id>"``).
        n_parallel: Deprecated name of ``n_envs``.

    Raises:
        ValueError: bad ``kind``, ``episodes``, ``n_envs``, ``vec_env`` or ``tasks``.
    """
    if n_parallel is not None:
        warnings.warn(
            "evaluate(n_parallel=...) is deprecated; use n_envs", DeprecationWarning, stacklevel=2
        )
        n_envs = n_parallel if n_envs is None else n_envs
    episodes = check_int("episodes", episodes, minimum=1)
    n_envs = check_optional_int("n_envs", n_envs, minimum=1)
    check_choice("vec_env", vec_env, VEC_ENV_CHOICES)
    torch_threads = check_optional_int("torch_threads", torch_threads, minimum=1)
    if tasks is None:
        tasks = load_tasks(env_id, kind, env_kwargs)
    else:
        kind = "custom"

    probe = make_env(env_id, obs=obs_wrapper, env_kwargs=env_kwargs, imports=imports)
    try:
        base = probe.unwrapped
        space = base.param_space  # type: ignore[attr-defined]
        mastery_threshold = float(base.mastery_threshold)  # type: ignore[attr-defined]
    finally:
        probe.close()
    tasks = np.asarray(tasks, dtype=np.float64).reshape(-1, space.dim)
    for params in tasks:
        space.to_vector(params)  # a task outside the bounds fails here, naming the parameter
    jobs = deque((task, episode) for task in range(len(tasks)) for episode in range(episodes))
    returns = np.zeros((len(tasks), episodes), dtype=np.float64)
    if jobs:
        width = min(n_envs or os.cpu_count() or 1, len(jobs))
        make_one = env_factory(
            env_id, obs=obs_wrapper, env_kwargs=env_kwargs, imports=tuple(imports)
        )
        if vec_env == "subproc" and width > 1:
            # Shared memory holds fixed-size arrays only: other observations (MiniGrid's own
            # Dict, obs="none", has its mission text) travel through the pipes instead.
            envs: AsyncVectorEnv | SyncVectorEnv = AsyncVectorEnv(
                [make_one] * width,
                autoreset_mode=AutoresetMode.DISABLED,
                shared_memory=_fits_shared_memory(probe.observation_space),
            )
        else:
            envs = SyncVectorEnv([make_one] * width, autoreset_mode=AutoresetMode.DISABLED)
        try:
            with (
                _limit_torch_threads(torch_threads),
                progress_task(
                    description or f"evaluating {env_id}", len(jobs), enabled=progress
                ) as bar,
            ):
                _play(model, envs, tasks, jobs, returns, deterministic, bar.advance)
        finally:
            envs.close()
    return EvalResult(
        env_id=env_id,
        kind=kind,
        param_names=list(space.names),
        tasks=tasks,
        returns=returns,
        mastery_threshold=mastery_threshold,
    )


def _play(
    model: Any,
    envs: AsyncVectorEnv | SyncVectorEnv,
    tasks: np.ndarray,
    jobs: deque[tuple[int, int]],
    returns: np.ndarray,
    deterministic: bool,
    episode_done: Callable[[], object],
) -> None:
    """Play every ``(task, episode)`` of ``jobs`` on ``envs`` and write its return."""
    width = envs.num_envs
    running: list[tuple[int, int] | None] = [None] * width
    sums = np.zeros(width, dtype=np.float64)
    observations, _ = envs.reset()  # every sub-env has an observation before any masked reset

    def start(slot: int) -> Any:
        """Reset sub-env ``slot`` alone into the next episode (or a spare one when none is
        left: it keeps stepping in lockstep, uncounted); return the batch of observations."""
        job = jobs.popleft() if jobs else None
        previous = running[slot]
        running[slot] = job
        sums[slot] = 0.0
        task, episode = job or previous or (0, 0)
        seeds: list[int | None] = [None] * width
        seeds[slot] = episode_seed(task, episode) if job is not None else None
        mask = np.zeros(width, dtype=np.bool_)
        mask[slot] = True
        batch, _ = envs.reset(seed=seeds, options={"params": tasks[task], "reset_mask": mask})
        return batch

    for slot in range(width):
        observations = start(slot)
    while any(job is not None for job in running):
        actions, _ = model.predict(observations, deterministic=deterministic)
        observations, rewards, terminated, truncated, _ = envs.step(actions)
        sums += rewards
        for slot in np.flatnonzero(terminated | truncated).tolist():
            job = running[slot]
            if job is not None:
                returns[job] = sums[slot]
                episode_done()
            observations = start(slot)


def _fits_shared_memory(space: gym.Space[Any]) -> bool:
    """Whether Gymnasium's shared memory can carry ``space``'s observations: fixed-size arrays
    (``Box``, ``Discrete``, ``MultiDiscrete``, ``MultiBinary``) and ``Dict``/``Tuple`` of them;
    not text (MiniGrid's ``MissionSpace``) or other custom spaces."""
    spaces_ = gym.spaces
    if isinstance(
        space, spaces_.Box | spaces_.Discrete | spaces_.MultiDiscrete | spaces_.MultiBinary
    ):
        return True
    if isinstance(space, spaces_.Dict):
        return all(_fits_shared_memory(sub) for sub in space.spaces.values())
    if isinstance(space, spaces_.Tuple):
        return all(_fits_shared_memory(sub) for sub in space.spaces)
    return False


@contextlib.contextmanager
def _limit_torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with torch's intra-op threads set to ``threads`` (when torch is loaded:
    a policy that is not torch's needs nothing)."""
    torch = sys.modules.get("torch")
    if threads is None or torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def evaluate_run(
    run_dir: str | os.PathLike[str],
    *,
    checkpoint: str = "final",
    kind: str | None = None,
    episodes: int | None = None,
    device: str = "auto",
    n_envs: int | None = None,
    vec_env: str = "subproc",
    torch_threads: int | None = 1,
    progress: bool = False,
) -> EvalResult:
    """Evaluate a run folder's model on its env's test set.

    The run's ``config.json`` is read as data: the modules of its ``imports`` are imported only
    when its env id needs them (a user env), never for its teacher, which evaluation does not
    use.

    Args:
        run_dir: A folder written by ``teachgym.training.train``.
        checkpoint: ``"final"`` (``final_model.zip``, else the latest checkpoint) or
            ``"latest"`` (the newest complete checkpoint); see ``RunDir.model_to_evaluate``.
        kind: Test set kind; ``None`` uses the run's ``eval_kind``.
        episodes: Episodes per task; ``None`` uses the run's ``eval_episodes`` (at least 1).
        device: Where the policy runs.
        n_envs: Sub-envs (see ``evaluate``); ``None``: one per CPU core.
        vec_env: ``"subproc"`` or ``"dummy"`` (see ``evaluate``).
        torch_threads: See ``evaluate``.
        progress: Show a progress bar.

    Raises:
        teachgym.training.runs.NotARunError: not a run folder.
        ValueError: the run has no model yet, its env needs a module that cannot be imported,
            or a bad argument.
    """
    run = RunDir.open(run_dir)
    config = run_settings(run)
    _, model_path = run.model_to_evaluate(checkpoint)
    imports = env_imports(config["env_id"], config["imports"])
    model = load_run_model(model_path, config, device=device)
    return evaluate(
        model,
        config["env_id"],
        env_kwargs=config["env_kwargs"],
        obs_wrapper=run_obs_wrapper(config),
        kind=kind or config["eval_kind"],
        episodes=episodes or max(1, int(config["eval_episodes"])),
        n_envs=n_envs,
        vec_env=vec_env,
        imports=imports,
        torch_threads=torch_threads,
        progress=progress,
    )


def run_settings(run: RunDir) -> dict[str, Any]:
    """The fields of a run's ``TrainConfig`` that evaluation reads, as stored in its
    ``config.json``, with ``TrainConfig``'s defaults for fields it lacks.

    Plain data on purpose: building the config (or validating it) would import the modules of
    its ``imports``, and those may register a teacher that only the training needs.

    Raises:
        ValueError: ``config.json`` has no config, or no ``env_id``.
    """
    stored = run.read_config().get("config")
    if not isinstance(stored, dict) or not isinstance(stored.get("env_id"), str):
        raise ValueError(f"{run.config_file} holds no training config with an env_id")
    defaults = {
        spec.name: spec.default_factory() if callable(spec.default_factory) else spec.default
        for spec in dataclasses.fields(TrainConfig)
        if spec.name in _EVALUATION_FIELDS
    }
    return {**defaults, **{key: stored[key] for key in _EVALUATION_FIELDS if key in stored}}


def load_run_model(path: str | os.PathLike[str], settings: dict[str, Any], device: str) -> Any:
    """The model saved at ``path`` by a run whose ``run_settings`` are ``settings``: a
    stable-baselines3 algorithm, or ``teachgym.agents.ppo.BatchedPPO`` for the batched backend.

    Raises:
        ValueError: unknown algorithm or device, or not a model of the run's kind.
        FileNotFoundError: no file at ``path``.
    """
    if settings.get("backend") == "batched":
        from teachgym.agents.ppo import BatchedPPO
        from teachgym.agents.sb3 import resolve_device

        return BatchedPPO.load(path, device=resolve_device(device))
    from teachgym.agents.sb3 import load_model  # torch and SB3 load only here

    return load_model(str(path), settings["algorithm"], device=device)


def run_obs_wrapper(settings: dict[str, Any]) -> str:
    """The observation wrapper a run's model reads on the MiniGrid-based envs: the config's, or
    ``"none"`` (MiniGrid's own ``Dict``) for the batched backend's PPO."""
    return "none" if settings.get("backend") == "batched" else str(settings["obs_wrapper"])


_EVALUATION_FIELDS = (
    "backend",
    "env_id",
    "env_kwargs",
    "obs_wrapper",
    "algorithm",
    "eval_kind",
    "eval_episodes",
    "imports",
)


def env_imports(env_id: str, imports: Sequence[str]) -> tuple[str, ...]:
    """The entries of a run's ``imports`` that making ``env_id`` needs, imported: none when
    teachgym, MiniGrid or ale-py registers the id, else all of them (one of them registers it).

    Raises:
        ValueError: the env needs them and one cannot be imported.
    """
    import teachgym.envs  # noqa: F401  (registers the teachgym/ ids)

    if env_id in gym.registry or env_id.startswith(("MiniGrid-", "BabyAI-", "ALE/")):
        return ()
    try:
        return tuple(resolve_imports(imports))
    except ValueError as error:
        raise ValueError(
            f"env {env_id!r} is not one that teachgym registers, so it needs the run's imports "
            f"{list(imports)}: {error}"
        ) from None
