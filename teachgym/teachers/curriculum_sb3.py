"""The curriculum on stable-baselines3 vector envs, and teacher metrics in the agent's logger.

``docs/design.md``, "Curriculum plumbing". ``CurriculumVecEnv`` is the SB3 counterpart
of ``teachgym.teachers.curriculum.CurriculumVectorEnv`` and shares its books
(``EpisodeLedger``); the module docstring there explains how pairing is checked and which info
keys are added. ``TeacherLoggerCallback`` writes the teacher's numbers under ``teacher/``.

Needs the ``train`` extra: ``pip install "teachgym[train]"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from teachgym.envs.base import caller_params
from teachgym.teachers.base import Teacher
from teachgym.teachers.curriculum import (
    EPISODE_RETURN_KEY,
    TEACHER_SCORE_KEY,
    EpisodeLedger,
    check_param_spaces,
    return_normalizer,
)

try:
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'the stable-baselines3 curriculum needs the train extra: pip install "teachgym[train]"'
    ) from error

__all__ = ["CurriculumVecEnv", "TeacherLoggerCallback"]


class CurriculumVecEnv(VecEnvWrapper):
    """Runs a teacher's curriculum on a stable-baselines3 ``DummyVecEnv`` or ``SubprocVecEnv``.

    The teacher stays in the main process; each sub-env always holds exactly one pending
    parameter set. SB3 resets a sub-env inside the step that ends its episode,
    without options, so the next episode must be configured before that step: the wrapper
    sends one set per sub-env at construction, and ``reset()`` uses them. When sub-env ``i``
    ends an episode:

    1. the finished episode's params are read from ``infos[i]["params"]`` (SB3 puts the last
       step's info there, beside ``terminal_observation``) and checked against the params its
       start reported; its return, summed here from the step rewards (float32 in
       ``DummyVecEnv``), is normalised by the env's ``return_range``
       (``teachgym.envs.base.normalize_return``) and the teacher updated;
       ``infos[i]`` gains ``"episode_return"`` and ``"teacher_score"``;
    2. the new episode, already started by SB3's auto-reset, used the pending set: its
       ``info["params"]`` (the base VecEnv's ``reset_infos[i]``) is checked against it;
    3. the teacher is sampled and the set sent with
       ``env_method("set_next_params", params, indices=[i])`` for the episode after.

    A mismatch at either check raises ``CurriculumMismatchError``. ``reset()`` of the whole
    VecEnv cuts the running episodes short; those are **not** reported to the teacher. Options
    set with ``set_options`` win over the pending set (the env contract): an episode started with
    ``{"params": ...}`` options is reported with those params and the pending set waits for the
    next auto-reset.

    ``env_method`` reaches ``set_next_params`` through Gymnasium wrappers (``Monitor``,
    ``TimeLimit``, observation wrappers): SB3 resolves it with ``get_wrapper_attr`` in the
    sub-env's process. Put this wrapper directly on the ``DummyVecEnv``/``SubprocVecEnv``
    (``VecMonitor`` below it is fine) and reward-changing wrappers such as ``VecNormalize``
    above it, so the teacher sees the env's own returns.

    Args:
        venv: The vector env of teachgym parameterized envs.
        teacher: A teacher over the sub-envs' ``ParamSpace``.

    Raises:
        ValueError: the sub-envs are not parameterized, their space is not the teacher's, or a
            reward-normalising ``VecNormalize`` sits below this wrapper.

    Example:
        >>> venv = make_vec_env("teachgym/GridNavigation-v0", n_envs=8, wrapper_class=GridFlatObs,
        ...                     vec_env_cls=SubprocVecEnv)
        >>> space = teachgym.envs.param_space("teachgym/GridNavigation-v0")
        >>> teacher = teachgym.teachers.make("alp-gmm", space, seed=0)
        >>> PPO("MlpPolicy", CurriculumVecEnv(venv, teacher)).learn(
        ...     1_000_000, callback=TeacherLoggerCallback())
    """

    def __init__(self, venv: VecEnv, teacher: Teacher) -> None:
        super().__init__(venv)
        inner: VecEnv = venv
        while isinstance(inner, VecEnvWrapper):
            if isinstance(inner, VecNormalize) and inner.norm_reward:
                raise ValueError(
                    "a reward-normalising VecNormalize is below CurriculumVecEnv, so the teacher "
                    "would see normalised returns; wrap CurriculumVecEnv in VecNormalize instead"
                )
            inner = inner.venv
        # The innermost VecEnv (Dummy/Subproc) keeps each auto-reset's info in reset_infos.
        self._base = inner
        if not venv.has_attr("set_next_params"):
            env_spaces: list[Any] = [None] * venv.num_envs
        else:
            env_spaces = venv.get_attr("param_space")
        check_param_spaces(teacher, env_spaces)
        self.teacher = teacher
        ranges = venv.get_attr("return_range")
        self.ledger = EpisodeLedger(teacher, [return_normalizer(r) for r in ranges])
        self._options_with_params = [False] * venv.num_envs
        self._started = False
        for index in range(venv.num_envs):
            self._send_pending(index)

    def reset(self) -> VecEnvObs:
        """Reset every sub-env; each new episode uses its pending set (or ``set_options``)."""
        with_params = self._options_with_params
        self._options_with_params = [False] * self.num_envs
        obs = self.venv.reset()
        reported = self._reset_params()
        for index in range(self.num_envs):
            if with_params[index]:
                # The caller's options chose these params; the pending set is still unused.
                self.ledger.start(index, reported[index], None)
            else:
                self.ledger.start(index, reported[index], self.ledger.pending[index])
                self._send_pending(index)
        self._started = True
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        """Step; report each ended episode and refill that sub-env's pending slot."""
        if not self._started:
            raise RuntimeError("CurriculumVecEnv: call reset() before stepping")
        obs, rewards, dones, infos = self.venv.step_wait()
        ledger = self.ledger
        ledger.returns += rewards
        for index in np.flatnonzero(dones).tolist():
            info = infos[index]
            _, raw_return, score = ledger.finish(index, info.get("params"))
            info[EPISODE_RETURN_KEY] = raw_return
            info[TEACHER_SCORE_KEY] = score
            ledger.start(index, self._auto_reset_params(index), ledger.pending[index])
            self._send_pending(index)
        return obs, rewards, dones, infos

    def set_options(self, options: list[dict] | dict | None = None) -> None:  # type: ignore[type-arg]
        """SB3's ``set_options``, noting which sub-envs' next reset gets params from it."""
        per_env = options if isinstance(options, list) else [options or {}] * self.num_envs
        self._options_with_params = [caller_params(opts) is not None for opts in per_env]
        self.venv.set_options(options)

    def metrics(self) -> dict[str, float]:
        """Numbers for the logger (``teacher/`` prefix): see ``EpisodeLedger.metrics``."""
        return self.ledger.metrics()

    def _send_pending(self, index: int) -> None:
        params = self.ledger.sample_pending(index)
        self.venv.env_method("set_next_params", params, indices=[index])

    def _reset_params(self) -> list[Any]:
        """Each sub-env's current params after a full reset, as its reset info reports them."""
        reset_infos = getattr(self._base, "reset_infos", None)
        if reset_infos is not None and all("params" in info for info in reset_infos):
            return [info["params"] for info in reset_infos]
        # A VecEnv that keeps no reset infos: ask the envs (one call per reset, not per step).
        return list(self.venv.get_attr("params"))

    def _auto_reset_params(self, index: int) -> Any:
        reset_infos = getattr(self._base, "reset_infos", None)
        if reset_infos is not None and "params" in reset_infos[index]:
            return reset_infos[index]["params"]
        return self.venv.get_attr("params", indices=[index])[0]


class TeacherLoggerCallback(BaseCallback):
    """Writes the curriculum's numbers to the agent's logger under ``teacher/``.

    At the end of every rollout it records ``teacher.metrics()`` (``n_updates``,
    ``n_samples`` and the algorithm's own numbers) plus ``episodes``, ``mean_score`` and
    ``mean_return`` (over the last 100 reported episodes) as ``teacher/<name>``; SB3 dumps them
    with ``rollout/`` and ``train/`` at its ``log_interval``.

    Args:
        curriculum: The ``CurriculumVecEnv`` to read; ``None`` finds it in the model's
            training env (through any ``VecEnvWrapper`` above it).
        verbose: SB3's verbosity level.

    Raises:
        ValueError: at the start of training, when no ``CurriculumVecEnv`` is found.
    """

    def __init__(self, curriculum: CurriculumVecEnv | None = None, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.curriculum = curriculum

    def _init_callback(self) -> None:
        if self.curriculum is None:
            env: Any = self.training_env
            while isinstance(env, VecEnvWrapper) and not isinstance(env, CurriculumVecEnv):
                env = env.venv
            if not isinstance(env, CurriculumVecEnv):
                raise ValueError(
                    "TeacherLoggerCallback found no CurriculumVecEnv in the training env; pass "
                    "it as TeacherLoggerCallback(curriculum)"
                )
            self.curriculum = env

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        assert self.curriculum is not None  # set in _init_callback
        for name, value in self.curriculum.metrics().items():
            self.logger.record(f"teacher/{name}", value)
