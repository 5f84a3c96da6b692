"""Curriculum wrappers: a teacher chooses each episode's params and learns from its return.

``docs/design.md``, "Curriculum plumbing". Three wrappers share one set of books
(``EpisodeLedger``) so that pairing params with returns is written, and checked, once:

==========================  =============================  ===================================
wrapper                     wraps                          how params reach the sub-env
==========================  =============================  ===================================
``TeacherWrapper``          one ``gymnasium.Env``          ``reset(options={"params": p})``
``CurriculumVectorEnv``     Gymnasium Sync/Async vector    ``set_attr("pending_params", ...)``
                            env                            right after an episode ends (no lag)
``CurriculumVecEnv``        stable-baselines3 Dummy/       ``env_method("set_next_params", p,
                            Subproc ``VecEnv``             indices=[i])``, one episode ahead
==========================  =============================  ===================================

``CurriculumVecEnv`` and its logger callback live in ``curriculum_sb3`` (stable-baselines3 is an
optional extra).

How pairing stays exact. The teacher lives in the main process; an episode's return is summed
there, from the rewards the wrapper sees. The params reported to ``teacher.update`` are always
read from the finished episode's own last-step ``info["params"]`` (the env contract puts them in
every step info; ``docs/design.md``, "Parameterized envs"), never from the wrapper's bookkeeping
alone. The books are a cross-check: each sub-env's current and pending params are known, every new
episode's ``info["params"]`` must equal the params sent for it, and every finished episode's must
equal those its start reported. Any difference (another writer of the pending slot, a reset the
wrapper did not see) raises ``CurriculumMismatchError`` instead of teaching the teacher a wrong
pairing.

What is reported. Every episode that ends by ``terminated`` or ``truncated`` is reported once,
with its undiscounted return mapped into [0, 1] by ``normalize_return(raw, env.return_range)``
(``teachgym.envs.base``, the function the env's own method calls). Episodes cut short by a
reset of the whole env (the caller's ``reset()``) are *not* reported: a partial return would read
as a failure at those params. On the step that ends an episode the wrappers add two keys to that
episode's info: ``info["episode_return"]`` (raw undiscounted return, float) and
``info["teacher_score"]`` (the normalised score the teacher received); ``info["params"]`` already
holds the params.

Place the curriculum wrapper where it sees the env's own rewards: outside ``TimeLimit`` (so it
sees truncation) and observation wrappers, but *inside* reward-changing wrappers such as
``VecNormalize`` or ``NormalizeReward``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from teachgym.envs.base import caller_params, normalize_return
from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher

__all__ = [
    "EPISODE_RETURN_KEY",
    "TEACHER_SCORE_KEY",
    "CurriculumMismatchError",
    "CurriculumVectorEnv",
    "EpisodeLedger",
    "TeacherWrapper",
    "check_param_spaces",
    "return_normalizer",
]

#: Info key, on an episode's last step, of its raw undiscounted return.
EPISODE_RETURN_KEY = "episode_return"
#: Info key, on an episode's last step, of the normalised score the teacher received.
TEACHER_SCORE_KEY = "teacher_score"
#: Finished episodes over which ``metrics()`` averages the score and the return (SB3's
#: ``stats_window_size`` default, so ``teacher/mean_score`` reads like ``rollout/ep_rew_mean``).
STATS_WINDOW = 100


class CurriculumMismatchError(RuntimeError):
    """An episode's ``info["params"]`` differ from the params the curriculum sent for it."""


def return_normalizer(return_range: Sequence[float]) -> Callable[[float], float]:
    """``raw return -> score`` for a (sub-)env whose ``return_range`` is ``return_range``:
    ``teachgym.envs.base.normalize_return`` with the range bound, checked now.

    The score is computed in the main process, without a call into a sub-env's process per
    episode, and equals ``env.unwrapped.normalize_return(raw)``.

    Raises:
        ValueError: a range that is not ``(low, high)`` with ``low < high``.
    """
    bounds = (float(return_range[0]), float(return_range[1]))
    normalize_return(bounds[0], bounds)  # a bad range fails at construction, not per episode
    return partial(normalize_return, return_range=bounds)


def check_param_spaces(teacher: Teacher, env_spaces: Sequence[Any]) -> None:
    """Raise ``ValueError`` unless every env's ``param_space`` has the teacher's names and bounds.

    Defaults are not compared: the wrappers always pass full vectors.

    Args:
        teacher: The curriculum's teacher.
        env_spaces: ``param_space`` of each (sub-)env.
    """
    for index, space in enumerate(env_spaces):
        if not isinstance(space, ParamSpace):
            raise ValueError(
                f"sub-env {index} has param_space {space!r}; a curriculum needs teachgym "
                "parameterized envs (see teachgym.envs.base.ParameterizedEnv)"
            )
        ours = teacher.param_space
        same = (
            space.names == ours.names
            and np.array_equal(space.low, ours.low)
            and np.array_equal(space.high, ours.high)
        )
        if not same:
            raise ValueError(
                f"the teacher samples from {ours} but sub-env {index} has "
                f"{space}; build the teacher with the env's space, e.g. "
                "teachgym.teachers.make(name, env.unwrapped.param_space)"
            )


class EpisodeLedger:
    """Per-sub-env books shared by the curriculum wrappers.

    For each sub-env it holds the params of the running episode (``current``), the params sent
    for a later episode and not yet used (``pending``) and the running undiscounted return. The
    wrappers call ``start`` when an episode begins and ``finish`` when it ends; both compare the
    params the env reported in its info with the books and raise ``CurriculumMismatchError`` on
    any difference. ``finish`` updates the teacher.

    Args:
        teacher: The teacher to sample from and update.
        normalizers: One ``raw return -> score`` function per sub-env.
    """

    def __init__(self, teacher: Teacher, normalizers: Sequence[Callable[[float], float]]) -> None:
        self.teacher = teacher
        self.num_envs = len(normalizers)
        self._normalizers = list(normalizers)
        self.current: list[np.ndarray | None] = [None] * self.num_envs
        self.pending: list[np.ndarray | None] = [None] * self.num_envs
        self.returns = np.zeros(self.num_envs, dtype=np.float64)
        self.episodes = 0
        self._scores: deque[float] = deque(maxlen=STATS_WINDOW)
        self._raw_returns: deque[float] = deque(maxlen=STATS_WINDOW)

    def sample_pending(self, index: int) -> np.ndarray:
        """Draw the teacher's next params and record them as ``index``'s pending set."""
        # A copy: the teacher may keep (and later change) the array it returned.
        params = np.array(self.teacher.sample(), dtype=np.float64)
        params.flags.writeable = False
        self.pending[index] = params
        return params

    def start(self, index: int, reported: Any, expected: np.ndarray | None) -> None:
        """Record that sub-env ``index`` began an episode whose info reported ``reported``.

        Args:
            index: The sub-env.
            reported: ``info["params"]`` of the episode's reset.
            expected: The params the wrapper sent for this episode, or ``None`` when the caller
                chose them (``options={"params": ...}``): then ``reported`` is taken as is.

        Raises:
            CurriculumMismatchError: ``reported`` differs from ``expected``.
        """
        params = self._as_vector(index, reported, "started")
        if expected is not None and not np.array_equal(params, expected):
            raise CurriculumMismatchError(
                f"sub-env {index} started an episode with params {params.tolist()}, but the "
                f"curriculum had sent {expected.tolist()} for it. Something else set this "
                "sub-env's params (another writer of its pending_params slot, a reset with "
                "options the wrapper did not see, a wrapper that chooses params itself such as "
                "FixedParams, or one that resets the env on its own); the teacher would be "
                "paired with the wrong episodes."
            )
        params.flags.writeable = False
        self.current[index] = params
        self.returns[index] = 0.0

    def finish(self, index: int, reported: Any) -> tuple[np.ndarray, float, float]:
        """Report sub-env ``index``'s finished episode to the teacher.

        Args:
            index: The sub-env.
            reported: ``info["params"]`` of the episode's last step.

        Returns:
            The episode's params, its raw undiscounted return and the normalised score the
            teacher was updated with.

        Raises:
            CurriculumMismatchError: the episode's params differ from those its start reported,
                or no start was recorded.
        """
        params = self._as_vector(index, reported, "finished")
        current = self.current[index]
        if current is None:
            raise CurriculumMismatchError(
                f"sub-env {index} finished an episode the curriculum never saw start; call "
                "reset() on the curriculum wrapper (not on the env below it) before stepping"
            )
        if not np.array_equal(params, current):
            raise CurriculumMismatchError(
                f"sub-env {index} finished an episode with params {params.tolist()}, but that "
                f"episode started with {current.tolist()}; the env was reset behind the "
                "curriculum wrapper's back, so its return cannot be paired with its params"
            )
        raw_return = float(self.returns[index])
        score = float(self._normalizers[index](raw_return))
        self.teacher.update(params, score)
        self.episodes += 1
        self._scores.append(score)
        self._raw_returns.append(raw_return)
        self.current[index] = None
        self.returns[index] = 0.0
        return params, raw_return, score

    def metrics(self) -> dict[str, float]:
        """``teacher.metrics()`` plus ``episodes`` reported and the mean ``score`` and raw
        ``return`` of the last ``STATS_WINDOW`` of them (NaN before the first)."""
        numbers = dict(self.teacher.metrics())
        numbers["episodes"] = float(self.episodes)
        numbers["mean_score"] = float(np.mean(self._scores)) if self._scores else float("nan")
        numbers["mean_return"] = (
            float(np.mean(self._raw_returns)) if self._raw_returns else float("nan")
        )
        return numbers

    def _as_vector(self, index: int, reported: Any, what: str) -> np.ndarray:
        """``info["params"]`` as a vector: the episode's parameter vector (the env contract,
        ``docs/design.md``, "Parameterized envs"), or a ``{name: value}`` dict naming every
        parameter, read in ``param_space.names`` order.

        Raises:
            CurriculumMismatchError: the info has no params.
            ValueError: they are neither such a vector nor such a dict.
        """
        if reported is None:
            raise CurriculumMismatchError(
                f"sub-env {index} {what} an episode without info['params']; the curriculum "
                "needs a teachgym parameterized env, and wrappers that keep the env's info"
            )
        space = self.teacher.param_space
        contract = (
            f"the curriculum reads each episode's params from info['params']: the parameter "
            f"vector of {space.dim} numbers in param_space order ({', '.join(space.names)}), "
            "or a {name: value} dict naming every parameter (docs/design.md, "
            '"Parameterized envs")'
        )
        if isinstance(reported, Mapping):
            names = sorted(str(name) for name in reported)
            if names != sorted(space.names):
                raise ValueError(
                    f"sub-env {index} {what} an episode whose info['params'] names {names}; "
                    f"{contract}"
                )
            reported = [reported[name] for name in space.names]
        try:
            return space.validate(reported)
        except ValueError as error:
            raise ValueError(
                f"sub-env {index} {what} an episode with info['params'] = {reported!r} "
                f"({error}); {contract}"
            ) from None


# ---------------------------------------------------------------------------- one env


class TeacherWrapper(gym.Wrapper):  # type: ignore[type-arg]
    """Runs a teacher's curriculum on one env in one process.

    At each ``reset`` it asks the teacher for params and passes them as
    ``options={"params": ...}``, unless the caller passes ``options={"params": ...}`` itself:
    then those are used, and their episode is reported to the teacher all the same. When the
    episode ends (``terminated`` or ``truncated``) it calls ``teacher.update(params, score)`` with
    the params from the last step's ``info["params"]`` and the undiscounted return normalised by
    the env's ``return_range`` (``teachgym.envs.base.normalize_return``), and adds
    ``info["episode_return"]`` (raw) and ``info["teacher_score"]`` (normalised) to that step's
    info.

    Works through other wrappers; place it outside ``TimeLimit`` (an inner time limit's
    truncation would otherwise never reach it, and the cut episode would not be reported) and
    inside reward wrappers. A ``reset`` before the episode ended drops that episode unreported.

    Args:
        env: A teachgym parameterized env, possibly wrapped.
        teacher: A teacher over the same ``ParamSpace`` as ``env.unwrapped.param_space``.

    Raises:
        ValueError: the env is not parameterized, or its space is not the teacher's.

    Example:
        >>> env = gym.make("teachgym/StumpTracks-v0")
        >>> teacher = teachgym.teachers.make("alp-gmm", env.unwrapped.param_space, seed=0)
        >>> env = TeacherWrapper(env, teacher)
    """

    def __init__(self, env: gym.Env, teacher: Teacher) -> None:
        super().__init__(env)
        base = env.unwrapped
        check_param_spaces(teacher, [getattr(base, "param_space", None)])
        self.teacher = teacher
        return_range = base.return_range  # type: ignore[attr-defined]
        self.ledger = EpisodeLedger(teacher, [return_normalizer(return_range)])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset with the teacher's next params, or with ``options["params"]`` when given."""
        options = dict(options or {})
        expected = None
        if caller_params(options) is None:
            expected = self.ledger.sample_pending(0)
            options["params"] = expected
        obs, info = self.env.reset(seed=seed, options=options)
        self.ledger.pending[0] = None
        self.ledger.start(0, info.get("params"), expected)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env; at an episode's end, update the teacher and annotate the info."""
        if self.ledger.current[0] is None:
            raise RuntimeError("TeacherWrapper: call reset() before step() (and after an end)")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.ledger.returns[0] += float(reward)
        if terminated or truncated:
            _, raw_return, score = self.ledger.finish(0, info.get("params"))
            info[EPISODE_RETURN_KEY] = raw_return
            info[TEACHER_SCORE_KEY] = score
        return obs, reward, terminated, truncated, info

    def metrics(self) -> dict[str, float]:
        """Numbers for the logger (``teacher/`` prefix): see ``EpisodeLedger.metrics``."""
        return self.ledger.metrics()


# ---------------------------------------------------------------------------- Gymnasium vector


class CurriculumVectorEnv(VectorWrapper):
    """Runs a teacher's curriculum on a Gymnasium vector env of parameterized envs.

    The teacher stays in the main process. Two of Gymnasium's autoreset modes are supported:

    - ``NEXT_STEP`` (Gymnasium's default) resets a sub-env on the step *after* the one that
      ended its episode, without options. When sub-env ``i`` ends an episode the wrapper reports
      it (params from that step's ``info["params"]``, return summed here), samples the teacher
      at once and stores the sample in the sub-env's pending slot; the reset on the next step
      uses it and its ``info["params"]`` is checked against it: no episode of lag.
    - ``SAME_STEP`` (the batched envs, ``teachgym.envs.batched``) resets inside the step that
      ends the episode, so every sub-env always holds the params of its *next* episode, sent
      one episode ahead as the SB3 wrapper does. The ended episode's params come from
      ``info["final_info"]["params"]``, the new episode's from ``info["params"]``.

    ``reset()`` of the whole vector env gives every sub-env a pending set first (or uses
    ``options["params"]`` when the caller gives them); the episodes it cuts short are not
    reported. ``options["reset_mask"]`` (partial reset) is supported likewise. ``DISABLED``
    is rejected: it leaves resets to the caller.

    Samples reach the sub-envs through Gymnasium's public ``VectorEnv.set_attr("pending_params",
    values)``, which gives sub-env ``i`` the ``i``-th value (Gymnasium's ``call`` gives every
    sub-env the same arguments, and neither takes indices). Sub-envs that get no new sample are
    given the pending value the books hold for them, which is what their slot holds.

    Args:
        env: A vector env (possibly under vector wrappers that keep rewards and infos) whose
            base has ``get_attr``/``set_attr`` (``SyncVectorEnv``, ``AsyncVectorEnv``, the
            batched envs' NumPy face) over teachgym parameterized envs, autoreset mode
            ``NEXT_STEP`` or ``SAME_STEP``.
        teacher: A teacher over the sub-envs' ``ParamSpace``.

    Raises:
        ValueError: the sub-envs are not parameterized, their space is not the teacher's, or
            the autoreset mode is ``DISABLED``.
        TypeError: the base vector env has no ``get_attr``/``set_attr``.
    """

    def __init__(self, env: VectorEnv, teacher: Teacher) -> None:
        super().__init__(env)
        base: Any = env.unwrapped  # get_attr/set_attr are checked below, not typed
        if not all(callable(getattr(base, name, None)) for name in ("get_attr", "set_attr")):
            raise TypeError(
                "CurriculumVectorEnv needs a vector env with get_attr and set_attr underneath "
                "(SyncVectorEnv, AsyncVectorEnv, a teachgym batched env); "
                f"got {type(base).__name__}"
            )
        mode = AutoresetMode(base.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(
                "CurriculumVectorEnv supports autoreset_mode NEXT_STEP (Gymnasium's default) and "
                f"SAME_STEP; got {mode.name}"
            )
        self._same_step = mode is AutoresetMode.SAME_STEP
        try:
            env_spaces = base.get_attr("param_space")
            ranges = base.get_attr("return_range")
        except AttributeError:
            env_spaces, ranges = (None,) * env.num_envs, ()
        check_param_spaces(teacher, env_spaces)
        self.teacher = teacher
        self._base = base
        self.ledger = EpisodeLedger(teacher, [return_normalizer(r) for r in ranges])
        self._resetting = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the sub-envs (all, or ``options["reset_mask"]``) with pending params.

        Episodes cut short by this reset are not reported to the teacher.
        """
        mask = np.ones(self.num_envs, dtype=bool)
        if options is not None and options.get("reset_mask") is not None:
            mask = np.asarray(options["reset_mask"], dtype=bool)
        chosen_by_caller = caller_params(options) is not None
        indices = np.flatnonzero(mask).tolist()
        if not chosen_by_caller:
            self._send_pending([i for i in indices if self.ledger.pending[i] is None])
        obs, infos = self.env.reset(seed=seed, options=options)  # type: ignore[arg-type]
        reported = _vector_info_rows(infos, "params", self.num_envs)
        for i in indices:
            expected = None if chosen_by_caller else self.ledger.pending[i]
            self.ledger.start(i, reported[i], expected)
            if not chosen_by_caller:
                self.ledger.pending[i] = None
        if self._same_step and not chosen_by_caller:
            self._send_pending(indices)  # the params of each sub-env's next episode, ahead
        self._resetting[mask] = False
        self._started = True
        return obs, infos

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step the sub-envs; report ended episodes and send the next params at once."""
        if not self._started:
            raise RuntimeError("CurriculumVectorEnv: call reset() before step()")
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        if self._same_step:
            return self._step_same_step(obs, rewards, terminations, truncations, infos)
        ledger = self.ledger
        restarted = np.flatnonzero(self._resetting).tolist()
        if restarted:
            # NEXT_STEP: this step was the reset of the sub-envs that ended last step; their
            # reset info names the params the new episode uses (the pending set sent for it).
            reported = _vector_info_rows(infos, "params", self.num_envs)
            for i in restarted:
                ledger.start(i, reported[i], ledger.pending[i])
                ledger.pending[i] = None
        # A reset step's reward is 0 and belongs to no episode.
        ledger.returns += np.where(self._resetting, 0.0, rewards)
        ended = np.logical_or(terminations, truncations)
        self._resetting = ended
        ended_indices = np.flatnonzero(ended).tolist()
        if ended_indices:
            reported = _vector_info_rows(infos, "params", self.num_envs)
            raw_returns = np.zeros(self.num_envs, dtype=np.float64)
            scores = np.zeros(self.num_envs, dtype=np.float64)
            for i in ended_indices:
                _, raw_returns[i], scores[i] = ledger.finish(i, reported[i])
            infos[EPISODE_RETURN_KEY], infos["_" + EPISODE_RETURN_KEY] = raw_returns, ended
            infos[TEACHER_SCORE_KEY], infos["_" + TEACHER_SCORE_KEY] = scores, ended.copy()
            self._send_pending([i for i in ended_indices if ledger.pending[i] is None])
        return obs, rewards, terminations, truncations, infos

    def metrics(self) -> dict[str, float]:
        """Numbers for the logger (``teacher/`` prefix): see ``EpisodeLedger.metrics``."""
        return self.ledger.metrics()

    def _step_same_step(
        self, obs: Any, rewards: Any, terminations: Any, truncations: Any, infos: dict[str, Any]
    ) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """SAME_STEP: an ended episode's last reward and params come with the new episode's
        first observation; the new episode used the pending set sent one episode ahead."""
        ledger = self.ledger
        ledger.returns += np.asarray(rewards, dtype=np.float64)
        ended = np.logical_or(np.asarray(terminations), np.asarray(truncations))
        ended_indices = np.flatnonzero(ended).tolist()
        if ended_indices:
            final_rows = _vector_info_rows(infos.get("final_info", {}), "params", self.num_envs)
            new_rows = _vector_info_rows(infos, "params", self.num_envs)
            raw_returns = np.zeros(self.num_envs, dtype=np.float64)
            scores = np.zeros(self.num_envs, dtype=np.float64)
            for i in ended_indices:
                _, raw_returns[i], scores[i] = ledger.finish(i, final_rows[i])
                ledger.start(i, new_rows[i], ledger.pending[i])
                ledger.pending[i] = None
            infos[EPISODE_RETURN_KEY], infos["_" + EPISODE_RETURN_KEY] = raw_returns, ended
            infos[TEACHER_SCORE_KEY], infos["_" + TEACHER_SCORE_KEY] = scores, ended.copy()
            self._send_pending(ended_indices)
        return obs, rewards, terminations, truncations, infos

    def _send_pending(self, indices: Sequence[int]) -> None:
        """Sample the teacher for each of ``indices`` and store it in that sub-env's slot."""
        if not indices:
            return
        for i in indices:
            self.ledger.sample_pending(int(i))
        # One public call for all sub-envs: the others get the value their slot already holds
        # (None, or a set sent earlier and not used yet), so only ``indices`` change.
        self._base.set_attr("pending_params", list(self.ledger.pending))


def _vector_info_rows(infos: dict[str, Any], key: str, num_envs: int) -> list[Any]:
    """Row ``i`` of a Gymnasium vector info ``key``, or ``None`` where sub-env ``i`` lacks it."""
    values = infos.get(key)
    if values is None:
        return [None] * num_envs
    mask = infos.get("_" + key)
    if isinstance(values, Mapping):
        # Sub-envs whose info[key] is a dict: Gymnasium stacks each entry ({name: column}).
        names = [name for name in values if not str(name).startswith("_")]
        rows: list[Any] = [{name: values[name][i] for name in names} for i in range(num_envs)]
    else:
        rows = list(values)
    return [row if mask is None or mask[i] else None for i, row in enumerate(rows)]
