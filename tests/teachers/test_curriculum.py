"""Curriculum wrappers: params and returns are paired exactly.

The pairing tests run ``CodedEpisodes``: each episode lasts a random number of steps (drawn from
the env's seeded ``np_random``), ends by termination or truncation at random, and its rewards
(random integer parts) sum to a code that identifies its params. A ``RecordingTeacher`` hands out
every code once. So an update ``(params, score)`` is right exactly when ``score`` is the
normalised code of ``params`` and ``params`` were sampled and not reported before: a params set
paired with a neighbour's or a previous episode's return, or a return summed across two episodes,
fails the first check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, SyncVectorEnv
from stable_baselines3 import PPO
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecNormalize

import teachgym  # noqa: F401  (registers the ids)
from teachgym.envs.base import ParameterizedEnv
from teachgym.envs.wrappers import GridFlatObs
from teachgym.spaces import ParamSpace
from teachgym.teachers import (
    CurriculumMismatchError,
    CurriculumVecEnv,
    CurriculumVectorEnv,
    RandomTeacher,
    Teacher,
    TeacherLoggerCallback,
    TeacherWrapper,
)
from teachgym.teachers.curriculum import EPISODE_RETURN_KEY, TEACHER_SCORE_KEY

LOW_BASE = 64  # code = LOW_BASE * code_high + code_low
NUM_CODES = 1024 * LOW_BASE
MAX_LENGTH = 20
CODED_SPACE = ParamSpace(["code_high", "code_low"], [0, 0], [1023, LOW_BASE - 1])


def code_of(params: Any) -> int:
    high, low = np.asarray(params, dtype=np.float64)
    assert high == int(high) and low == int(low), f"params {params} are not a code"
    return int(high) * LOW_BASE + int(low)


class _CodedBase(gym.Env):
    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        length = int(self.np_random.integers(1, MAX_LENGTH + 1))
        cuts = np.sort(self.np_random.integers(0, self.code + 1, size=length - 1))
        self.rewards = np.diff(np.concatenate([[0], cuts, [self.code]])).tolist()
        self.truncate = bool(self.np_random.random() < 0.3)
        self.t = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        reward = float(self.rewards[self.t])
        self.t += 1
        ended = self.t == len(self.rewards)
        obs = np.full(1, self.t / MAX_LENGTH, dtype=np.float32)
        return obs, reward, ended and not self.truncate, ended and self.truncate, {}


class CodedEpisodes(ParameterizedEnv, _CodedBase):
    """Random-length episodes whose return is the code of their params (see module docstring)."""

    return_range = (0.0, float(NUM_CODES - 1))

    def __init__(self) -> None:
        self.param_space = CODED_SPACE

    def _apply_params(self, params: np.ndarray) -> None:
        self.code = code_of(params)


def make_coded(wrap: str = "sb3"):
    """A picklable factory: the coded env under the wrappers a user's stack would have."""

    def factory() -> gym.Env:
        env: gym.Env = gym.wrappers.TimeLimit(CodedEpisodes(), max_episode_steps=10 * MAX_LENGTH)
        if wrap == "sb3":
            return Monitor(env)
        return gym.wrappers.RecordEpisodeStatistics(env)

    return factory


class RecordingTeacher(Teacher):
    """Hands out every code once, in a seeded order, and records what it is told."""

    def __init__(self, param_space: ParamSpace = CODED_SPACE, *, seed: int | None = 0) -> None:
        super().__init__(param_space, seed=seed)
        self._codes = self.rng.permutation(NUM_CODES)
        self.sampled: list[int] = []
        self.updates: list[tuple[np.ndarray, float]] = []

    def _sample(self) -> np.ndarray:
        code = int(self._codes[self.n_samples % NUM_CODES])
        self.sampled.append(code)
        return np.array([code // LOW_BASE, code % LOW_BASE], dtype=np.float64)

    def _update(self, params: np.ndarray, score: float) -> None:
        self.updates.append((params.copy(), score))


def pairing_mismatches(teacher: RecordingTeacher, chosen: frozenset[int] = frozenset()) -> int:
    """Updates whose score is not their params' normalised code, or whose params were not
    handed out (``chosen``: codes a caller passed as options) or were reported twice."""
    normalize = CodedEpisodes().normalize_return
    handed_out = Counter(teacher.sampled)
    reported: Counter[int] = Counter()
    mismatches = 0
    for params, score in teacher.updates:
        code = code_of(params)
        reported[code] += 1
        wrong_score = score != normalize(float(code))
        unknown_or_repeated = code not in chosen and reported[code] > handed_out[code]
        mismatches += int(wrong_score or unknown_or_repeated)
    return mismatches


def _drive_sb3(venv, steps: int, reset_at: int | None = None) -> int:
    """Step with dummy actions; return the number of ended episodes the VecEnv reported."""
    venv.reset()
    actions = np.zeros(venv.num_envs, dtype=np.int64)
    ended = 0
    for step in range(steps):
        if step == reset_at:
            venv.reset()
        _, _, dones, infos = venv.step(actions)
        for index in np.flatnonzero(dones):
            info = infos[index]
            assert info[EPISODE_RETURN_KEY] == code_of(info["params"])
            assert "terminal_observation" in info
        ended += int(dones.sum())
    return ended


def _drive_gymnasium(vec, steps: int, reset_at: int | None = None, same_step: bool = False) -> int:
    """Step with dummy actions; return the number of ended episodes. In ``SAME_STEP`` mode the
    ended episode's params are in ``final_info`` and ``params`` already names the next one."""
    vec.reset(seed=0)
    actions = np.zeros(vec.num_envs, dtype=np.int64)
    ended = 0
    for step in range(steps):
        if step == reset_at:
            vec.reset()
        _, _, terminations, truncations, infos = vec.step(actions)
        done = terminations | truncations
        for index in np.flatnonzero(done):
            assert infos["_" + EPISODE_RETURN_KEY][index]
            params = (infos["final_info"] if same_step else infos)["params"][index]
            assert infos[EPISODE_RETURN_KEY][index] == code_of(params)
            if same_step:
                assert code_of(infos["params"][index]) != code_of(params)  # already the next
        ended += int(done.sum())
    return ended


# ---------------------------------------------------------------------------- exact pairing


@pytest.mark.parametrize(
    ("backend", "num_envs", "steps"),
    [("dummy", 3, 2000), ("subproc", 8, 500)],
)
def test_sb3_pairing_is_exact(backend, num_envs, steps):
    factories = [make_coded("sb3") for _ in range(num_envs)]
    if backend == "dummy":
        venv = DummyVecEnv(factories)
    else:
        venv = SubprocVecEnv(factories, start_method="fork")
    venv.seed(123)
    teacher = RecordingTeacher()
    curriculum = CurriculumVecEnv(venv, teacher)
    try:
        ended = _drive_sb3(curriculum, steps, reset_at=steps // 2)
    finally:
        curriculum.close()
    # Mean length 10.5 steps: about steps * num_envs / 10.5 episodes (~570 and ~380).
    assert ended >= steps * num_envs // 15
    assert len(teacher.updates) == ended  # every ended episode once; cut ones never
    assert pairing_mismatches(teacher) == 0
    # Each sub-env holds exactly one pending set; the reset cut num_envs episodes short.
    assert teacher.n_samples == ended + 3 * num_envs
    assert curriculum.metrics()["episodes"] == ended


@pytest.mark.parametrize(("backend", "num_envs", "steps"), [("sync", 3, 2000), ("async", 8, 500)])
def test_gymnasium_vector_pairing_is_exact(backend, num_envs, steps):
    factories = [make_coded("gymnasium") for _ in range(num_envs)]
    if backend == "sync":
        vec = SyncVectorEnv(factories)
    else:
        vec = AsyncVectorEnv(factories, context="fork")
    teacher = RecordingTeacher()
    curriculum = CurriculumVectorEnv(vec, teacher)
    try:
        ended = _drive_gymnasium(curriculum, steps, reset_at=steps // 2)
    finally:
        curriculum.close()
    # NEXT_STEP spends one step on each reset: about steps * num_envs / 11.5 episodes.
    assert ended >= steps * num_envs // 16
    assert len(teacher.updates) == ended
    assert pairing_mismatches(teacher) == 0


@pytest.mark.parametrize(("backend", "num_envs", "steps"), [("sync", 3, 2000), ("async", 8, 500)])
def test_gymnasium_same_step_pairing_is_exact(backend, num_envs, steps):
    """SAME_STEP resets inside the ending step, so each sub-env holds its next episode's params
    one episode ahead (as the batched envs need); pairing stays exact."""
    factories = [make_coded("gymnasium") for _ in range(num_envs)]
    if backend == "sync":
        vec = SyncVectorEnv(factories, autoreset_mode="SameStep")
    else:
        vec = AsyncVectorEnv(factories, context="fork", autoreset_mode="SameStep")
    teacher = RecordingTeacher()
    curriculum = CurriculumVectorEnv(vec, teacher)
    try:
        ended = _drive_gymnasium(curriculum, steps, reset_at=steps // 2, same_step=True)
    finally:
        curriculum.close()
    # No step is spent on resets: about steps * num_envs / 10.5 episodes.
    assert ended >= steps * num_envs // 15
    assert len(teacher.updates) == ended
    assert pairing_mismatches(teacher) == 0
    # Never reported, per sub-env: the episode the mid-run reset cut short, the episode still
    # running at the end, and the set pending for the one after it.
    assert teacher.n_samples == ended + 3 * num_envs


@pytest.mark.parametrize(
    "steps",
    [1500, pytest.param(15000, marks=pytest.mark.slow)],  # ~1,100 / ~11,000 episodes each
)
def test_pairing_holds_over_thousands_of_episodes_on_eight_workers(steps):
    """The issue's bar: 8 worker processes, thousands of episodes, zero mismatches, for the
    SB3 and the Gymnasium process backends."""
    sb3_teacher, gym_teacher = RecordingTeacher(seed=1), RecordingTeacher(seed=2)
    sb3 = CurriculumVecEnv(
        SubprocVecEnv([make_coded("sb3") for _ in range(8)], start_method="fork"), sb3_teacher
    )
    gymnasium_vec = CurriculumVectorEnv(
        AsyncVectorEnv([make_coded("gymnasium") for _ in range(8)], context="fork"), gym_teacher
    )
    try:
        sb3.seed(7)
        sb3_ended = _drive_sb3(sb3, steps)
        gym_ended = _drive_gymnasium(gymnasium_vec, steps)
    finally:
        sb3.close()
        gymnasium_vec.close()
    assert min(sb3_ended, gym_ended) >= 0.6 * steps and sb3_ended + gym_ended >= 1.3 * steps
    assert len(sb3_teacher.updates) == sb3_ended
    assert len(gym_teacher.updates) == gym_ended
    assert pairing_mismatches(sb3_teacher) == 0
    assert pairing_mismatches(gym_teacher) == 0


def test_teacher_wrapper_pairing_is_exact_and_options_win():
    teacher = RecordingTeacher()
    env = TeacherWrapper(make_coded("gymnasium")(), teacher)
    env.reset(seed=0)
    ended = 0
    chosen = frozenset({code_of([3, 4])})
    for episode in range(400):
        if episode == 100:
            _, info = env.reset(options={"params": [3, 4]})
            np.testing.assert_array_equal(info["params"], [3, 4])
        while True:
            _, _, terminated, truncated, info = env.step(0)
            if terminated or truncated:
                assert info[EPISODE_RETURN_KEY] == code_of(info["params"])
                assert info[TEACHER_SCORE_KEY] == teacher.updates[-1][1]
                ended += 1
                env.reset()
                break
    assert len(teacher.updates) == ended == 400
    assert pairing_mismatches(teacher, chosen) == 0
    assert code_of(teacher.updates[100][0]) == code_of([3, 4])
    assert env.metrics()["episodes"] == 400


# ---------------------------------------------------------------------------- edges


def test_sb3_set_options_params_win_and_the_pending_set_waits():
    teacher = RecordingTeacher()
    curriculum = CurriculumVecEnv(DummyVecEnv([make_coded("sb3") for _ in range(2)]), teacher)
    curriculum.set_options([{"params": [3, 4]}, {}])
    curriculum.reset()
    pending_before = curriculum.ledger.pending[0]
    _drive_sb3_steps(curriculum, 300)
    reported = [code_of(params) for params, _ in teacher.updates]
    assert code_of([3, 4]) in reported
    assert pending_before is not None and code_of(pending_before) in reported  # used later
    assert pairing_mismatches(teacher, frozenset({code_of([3, 4])})) == 0


def test_sb3_time_limit_truncation_below_monitor_is_reported_with_the_cut_return():
    def factory() -> gym.Env:
        return Monitor(gym.wrappers.TimeLimit(CodedEpisodes(), max_episode_steps=5))

    teacher = RecordingTeacher()
    curriculum = CurriculumVecEnv(DummyVecEnv([factory] * 3), teacher)
    curriculum.seed(0)
    curriculum.reset()
    normalize = CodedEpisodes().normalize_return
    cut = whole = 0
    for _ in range(300):
        _, _, dones, infos = curriculum.step(np.zeros(3, dtype=np.int64))
        for index in np.flatnonzero(dones):
            info = infos[index]
            monitor_return = info["episode"]["r"]  # Monitor's own sum, independent of ours
            assert info[EPISODE_RETURN_KEY] == monitor_return
            assert info[TEACHER_SCORE_KEY] == normalize(monitor_return)
            if info["episode"]["l"] == 5 and info["TimeLimit.truncated"]:
                cut += 1
            else:
                whole += 1
                assert monitor_return == code_of(info["params"])
    assert cut > 20 and whole > 20
    assert teacher.n_updates == cut + whole


def _drive_sb3_steps(venv, steps: int) -> None:
    actions = np.zeros(venv.num_envs, dtype=np.int64)
    for _ in range(steps):
        venv.step(actions)


def test_gymnasium_reset_options_params_and_partial_reset():
    teacher = RecordingTeacher()
    curriculum = CurriculumVectorEnv(SyncVectorEnv([make_coded("g") for _ in range(3)]), teacher)
    curriculum.reset(seed=0, options={"params": [3, 4]})
    actions = np.zeros(3, dtype=np.int64)
    for step in range(200):
        if step == 50:
            curriculum.reset(options={"reset_mask": np.array([True, False, True])})
        curriculum.step(actions)
    reported = [code_of(params) for params, _ in teacher.updates]
    assert reported.count(code_of([3, 4])) >= 1
    assert pairing_mismatches(teacher, frozenset({code_of([3, 4])})) == 0


def test_sb3_mismatch_behind_the_wrappers_back_raises():
    teacher = RecordingTeacher()
    venv = DummyVecEnv([make_coded("sb3") for _ in range(2)])
    curriculum = CurriculumVecEnv(venv, teacher)
    curriculum.reset()
    venv.env_method("set_next_params", [5, 5], indices=[0])  # not through the curriculum
    with pytest.raises(CurriculumMismatchError, match="sub-env 0 started an episode"):
        _drive_sb3_steps(curriculum, 10 * MAX_LENGTH)


def test_gymnasium_mismatch_behind_the_wrappers_back_raises():
    teacher = RecordingTeacher()
    vec = SyncVectorEnv([make_coded("g") for _ in range(2)])
    curriculum = CurriculumVectorEnv(vec, teacher)
    curriculum.reset(seed=0)
    actions = np.zeros(2, dtype=np.int64)
    with pytest.raises(CurriculumMismatchError, match="started an episode with params"):
        for _ in range(10 * MAX_LENGTH):
            _, _, terminations, truncations, _ = curriculum.step(actions)
            if (terminations | truncations).any():
                vec.call("set_next_params", [5, 5])  # overwrites the curriculum's pending set


class _EmptyRange(CodedEpisodes):
    return_range = (1.0, 1.0)


def test_every_wrapper_checks_the_return_range_before_any_episode():
    builds = [
        lambda: TeacherWrapper(_EmptyRange(), RecordingTeacher()),
        lambda: CurriculumVectorEnv(SyncVectorEnv([_EmptyRange]), RecordingTeacher()),
        lambda: CurriculumVecEnv(DummyVecEnv([_EmptyRange]), RecordingTeacher()),
    ]
    for build in builds:
        with pytest.raises(ValueError, match="return_range must be two finite numbers"):
            build()


def test_step_before_reset_raises():
    curriculum = CurriculumVecEnv(DummyVecEnv([make_coded("sb3")]), RecordingTeacher())
    with pytest.raises(RuntimeError, match="reset"):
        curriculum.step(np.zeros(1, dtype=np.int64))


def test_wrong_teacher_space_or_env_is_a_clear_value_error():
    wrong = RandomTeacher(ParamSpace.unit(2), seed=0)
    grid = "teachgym/GridNavigation-v0"
    with pytest.raises(ValueError, match="teacher samples from"):
        TeacherWrapper(gym.make(grid), wrong)
    with pytest.raises(ValueError, match="teacher samples from"):
        CurriculumVecEnv(DummyVecEnv([lambda: GridFlatObs(gym.make(grid))]), wrong)
    with pytest.raises(ValueError, match="teacher samples from"):
        CurriculumVectorEnv(SyncVectorEnv([lambda: gym.make(grid)]), wrong)
    with pytest.raises(ValueError, match="parameterized envs"):
        CurriculumVecEnv(DummyVecEnv([lambda: gym.make("CartPole-v1")]), wrong)
    with pytest.raises(ValueError, match="parameterized envs"):
        TeacherWrapper(gym.make("CartPole-v1"), wrong)


def test_unsupported_setups_are_rejected():
    teacher = RecordingTeacher()
    disabled = SyncVectorEnv([make_coded("g")], autoreset_mode="Disabled")
    with pytest.raises(ValueError, match="DISABLED"):
        CurriculumVectorEnv(disabled, teacher)
    below = VecNormalize(DummyVecEnv([make_coded("sb3")]), norm_reward=True)
    with pytest.raises(ValueError, match="VecNormalize"):
        CurriculumVecEnv(below, teacher)


# ---------------------------------------------------------------------------- real envs


class EasyGridTeacher(Teacher):
    """Small rooms only (``max_steps <= 144``), so short training runs see episodes end."""

    def _sample(self) -> np.ndarray:
        params = self.param_space.sample(self.rng)
        params[0] = self.rng.uniform(5.0, 6.0)
        return params

    def _update(self, params: np.ndarray, score: float) -> None:
        pass


def test_teacher_wrapper_through_time_limit_and_obs_wrapper_on_a_grid_env():
    env = gym.make("teachgym/GridNavigation-v0", max_episode_steps=5)
    teacher = EasyGridTeacher(env.unwrapped.param_space, seed=0)
    env = TeacherWrapper(GridFlatObs(env), teacher)
    env.reset(seed=0)
    for _ in range(3):
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, info = env.step(2)
            total += float(reward)
            done = terminated or truncated
        assert info[EPISODE_RETURN_KEY] == total
        assert info[TEACHER_SCORE_KEY] == env.unwrapped.normalize_return(total)
        env.reset()
    assert teacher.n_updates == 3


def test_teacher_wrapper_on_a_box2d_walker():
    pytest.importorskip("Box2D")
    env = gym.make("teachgym/StumpTracks-v0", max_episode_steps=200)
    teacher = RandomTeacher(env.unwrapped.param_space, seed=0)
    env = TeacherWrapper(env, teacher)
    env.reset(seed=0)
    env.action_space.seed(0)
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        total += float(reward)
        done = terminated or truncated
    assert teacher.n_updates == 1
    assert info[EPISODE_RETURN_KEY] == pytest.approx(total)
    assert info[TEACHER_SCORE_KEY] == env.unwrapped.normalize_return(info[EPISODE_RETURN_KEY])


class _RecordingWriter(KVWriter):
    def __init__(self) -> None:
        self.dumps: list[dict[str, Any]] = []

    def write(self, key_values, key_excluded, step=0) -> None:
        self.dumps.append(dict(key_values))


def test_ppo_learns_through_the_curriculum_and_logs_teacher_metrics():
    space = gym.make("teachgym/GridNavigation-v0").unwrapped.param_space
    teacher = EasyGridTeacher(space, seed=0)
    venv = DummyVecEnv([lambda: GridFlatObs(gym.make("teachgym/GridNavigation-v0"))] * 2)
    venv.seed(0)
    curriculum = CurriculumVecEnv(venv, teacher)
    model = PPO(
        "MlpPolicy",
        curriculum,
        n_steps=160,
        batch_size=64,
        n_epochs=1,
        policy_kwargs={"net_arch": [16]},
        seed=0,
        device="cpu",
    )
    writer = _RecordingWriter()
    model.set_logger(Logger(folder=None, output_formats=[writer]))
    model.learn(640, callback=TeacherLoggerCallback())
    # Two rollouts of 160 steps per sub-env, each longer than the largest max_steps (144).
    assert teacher.n_updates >= 4
    logged = writer.dumps[-1]
    assert logged["teacher/episodes"] == teacher.n_updates == curriculum.ledger.episodes
    assert logged["teacher/n_samples"] == teacher.n_samples
    assert 0.0 <= logged["teacher/mean_score"] <= 1.0
    assert "teacher/mean_return" in logged


def test_logger_callback_without_a_curriculum_is_a_clear_error():
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=32, policy_kwargs={"net_arch": [8]})
    with pytest.raises(ValueError, match="no CurriculumVecEnv"):
        model.learn(32, callback=TeacherLoggerCallback())


# ---------------------------------------------------------------------------- info["params"]


class DictParamsInfo(gym.Wrapper):
    """An env that reports ``info["params"]`` as ``{name: value}`` (``to``: what it reports)."""

    def __init__(self, env: gym.Env, to: str = "dict") -> None:
        super().__init__(env)
        self.to = to

    def _rewrite(self, info: dict[str, Any]) -> dict[str, Any]:
        space = self.env.unwrapped.param_space
        if self.to == "dict":
            info["params"] = space.to_dict(info["params"])
        elif self.to == "partial dict":
            info["params"] = {space.names[0]: float(info["params"][0])}
        else:
            info["params"] = [str(value) for value in info["params"]]
        return info

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, self._rewrite(info)

    def step(self, action):
        *rest, info = self.env.step(action)
        return (*rest, self._rewrite(info))


def _dict_coded(to: str = "dict"):
    return lambda: DictParamsInfo(make_coded("gymnasium")(), to)


@pytest.mark.parametrize("wrapper", ["teacher", "sb3", "gymnasium"])
def test_info_params_as_a_dict_is_read_by_name(wrapper):
    teacher = RecordingTeacher()
    if wrapper == "teacher":
        env = TeacherWrapper(_dict_coded()(), teacher)
        env.reset(seed=0)
        for _ in range(300):
            _, _, terminated, truncated, _ = env.step(0)
            if terminated or truncated:
                env.reset()
    elif wrapper == "sb3":
        venv = CurriculumVecEnv(DummyVecEnv([_dict_coded()] * 2), teacher)
        venv.reset()
        _drive_sb3_steps(venv, 300)
    else:
        vec = CurriculumVectorEnv(SyncVectorEnv([_dict_coded()] * 2), teacher)
        vec.reset(seed=0)
        for _ in range(300):
            vec.step(np.zeros(2, dtype=np.int64))
    assert len(teacher.updates) > 10
    assert pairing_mismatches(teacher) == 0


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("partial dict", r"names \['code_high'\].*\(code_high, code_low\).*naming every parameter"),
        ("strings", r"info\['params'\] = \['.*'\].*parameter vector"),
    ],
)
def test_info_params_that_break_the_contract_is_a_clear_error(to, message):
    env = TeacherWrapper(_dict_coded(to)(), RecordingTeacher())
    with pytest.raises(ValueError, match=message) as error:
        env.reset(seed=0)
    assert "docs/design.md" in str(error.value)
