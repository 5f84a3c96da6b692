"""BatchedCurriculum: params in batches from the teacher, returns back in batches, exact pairing.

The env here encodes each episode's params in its return, so any mispairing between the params a
teacher chose and the score it is told about shows up as a wrong score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces

from teachgym.agents.ppo import BatchedPPO
from teachgym.spaces import ParamSpace
from teachgym.teachers import make
from teachgym.teachers.base import Teacher
from teachgym.teachers.curriculum import CurriculumMismatchError
from teachgym.teachers.curriculum_batched import BatchedCurriculum

SPACE = ParamSpace.from_bounds({"a": (0.0, 1.0), "b": (0.0, 1.0)})


def encoded_return(params: torch.Tensor) -> torch.Tensor:
    """The return of an episode with ``params``: in [0, 1], one-to-one on a grid of params."""
    return 0.25 + 0.5 * params[:, 0] * 0.5 + 0.25 * params[:, 1] * 0.5


class EncodingEnv:
    """A batched env (the ``BatchedGridEnv`` contract the curriculum reads) whose episodes last
    1–4 steps (drawn per episode from the env's generator) and return ``encoded_return``."""

    metadata: dict[str, Any] = {}  # noqa: RUF012

    def __init__(self, num_envs: int, seed: int = 0) -> None:
        self.num_envs = num_envs
        self.device = torch.device("cpu")
        self.param_space = SPACE
        self.return_range = (0.0, 1.0)
        self.single_action_space = spaces.Discrete(7)
        self.generator = torch.Generator().manual_seed(seed)
        self.params = torch.zeros(num_envs, 2, dtype=torch.float64)
        self.pending_params = torch.zeros_like(self.params)
        self.has_pending = torch.zeros(num_envs, dtype=torch.bool)
        self.length = torch.ones(num_envs, dtype=torch.long)
        self.step_count = torch.zeros(num_envs, dtype=torch.long)
        self.episode_return = torch.zeros(num_envs, dtype=torch.float64)

    def set_next_params(self, indices: Any, params: Any, *, check: bool = True) -> None:
        index = torch.as_tensor(indices, dtype=torch.long)
        self.pending_params.index_copy_(0, index, torch.as_tensor(params, dtype=torch.float64))
        self.has_pending.index_fill_(0, index, True)

    def _start(self, index: torch.Tensor, params: torch.Tensor) -> None:
        self.params.index_copy_(0, index, params)
        self.step_count.index_fill_(0, index, 0)
        self.episode_return.index_fill_(0, index, 0.0)
        length = torch.randint(1, 5, (len(index),), generator=self.generator)
        self.length.index_copy_(0, index, length)

    def _obs(self) -> dict[str, torch.Tensor]:
        image = torch.zeros(self.num_envs, 7, 7, 3, dtype=torch.uint8)
        return {"image": image, "direction": torch.zeros(self.num_envs, dtype=torch.long)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        params = torch.as_tensor(np.asarray((options or {})["params"]), dtype=torch.float64)
        self._start(torch.arange(self.num_envs), params)
        return self._obs(), {"params": self.params.clone()}

    def step(self, actions: torch.Tensor) -> Any:
        self.step_count += 1
        done = self.step_count >= self.length
        reward = torch.where(done, encoded_return(self.params), 0.0)
        self.episode_return += reward
        info: dict[str, Any] = {}
        if bool(done.any()):
            info["final_params"] = self.params.clone()
            info["final_return"] = self.episode_return.clone()
            info["final_length"] = self.step_count.clone()
            index = done.nonzero().squeeze(1)
            pending = self.has_pending.index_select(0, index)
            assert bool(pending.all()), "the curriculum left an env without pending params"
            self.has_pending.index_fill_(0, index, False)
            self._start(index, self.pending_params.index_select(0, index))
        info["params"] = self.params.clone()
        truncated = torch.zeros_like(done)
        return self._obs(), reward.float(), done, truncated, info


class CheckingTeacher(Teacher):
    """Uniform samples; fails if a score is not the one the params' episode returns."""

    def __init__(self, param_space: ParamSpace, *, seed: int | None = None) -> None:
        super().__init__(param_space, seed=seed)
        self.checked = 0

    def _sample(self) -> np.ndarray:
        return self.param_space.low + self.rng.random(self.param_space.dim) * (
            self.param_space.high - self.param_space.low
        )

    def _update(self, params: np.ndarray, score: float) -> None:
        expected = float(encoded_return(torch.as_tensor(params[None]))[0])
        assert score == pytest.approx(expected, abs=1e-12), (params, score, expected)
        self.checked += 1


class Hooks:
    def __init__(self, curriculum: BatchedCurriculum) -> None:
        self.curriculum = curriculum
        self.finished: list[Any] = []

    def on_rollout_start(self, agent: BatchedPPO) -> None:
        pass

    def on_step(self, agent: BatchedPPO, info: dict[str, Any], done: torch.Tensor) -> None:
        self.curriculum.on_step(info, done, agent.num_timesteps)

    def on_rollout_end(self, agent: BatchedPPO) -> bool:
        self.finished.append(self.curriculum.end_rollout())
        return True


def test_pairing_is_exact_over_thousands_of_episodes_through_ppo() -> None:
    env = EncodingEnv(64, seed=3)
    teacher = CheckingTeacher(SPACE, seed=1)
    curriculum = BatchedCurriculum(env, teacher, min_pool=8)
    model = BatchedPPO(env, {"n_steps": 8, "n_epochs": 1, "n_minibatches": 2, "hidden": 8})
    hooks = Hooks(curriculum)
    model.set_observation(curriculum.reset())
    model.learn(64 * 8 * 20, callback=hooks, reset_num_timesteps=False)
    episodes = sum(len(batch) for batch in hooks.finished)
    assert episodes > 3000
    assert teacher.checked == teacher.n_updates == curriculum.episodes == episodes
    # Every param the envs played came from the teacher: what was sampled covers what was used.
    assert teacher.n_samples >= episodes + env.num_envs
    steps = np.concatenate([batch.steps for batch in hooks.finished])
    assert np.all(np.diff(steps) >= 0) and steps[-1] <= model.num_timesteps
    assert curriculum.metrics()["pool_refills"] >= 0


def test_teacher_gets_one_batch_per_rollout_in_the_order_episodes_ended() -> None:
    env = EncodingEnv(16, seed=0)
    teacher = make("random", SPACE, seed=0)
    calls: list[int] = []
    original = teacher.update_batch

    def spy(params: Any, scores: Any) -> None:
        calls.append(len(scores))
        original(params, scores)

    teacher.update_batch = spy  # type: ignore[method-assign]
    curriculum = BatchedCurriculum(env, teacher)
    curriculum.reset()
    for step in range(1, 9):
        _, _, done, truncated, info = env.step(torch.zeros(16, dtype=torch.long))
        curriculum.on_step(info, done | truncated, step * 16)
    finished = curriculum.end_rollout()
    assert calls == [len(finished)] and len(finished) > 16
    np.testing.assert_allclose(
        finished.scores, encoded_return(torch.as_tensor(finished.params)).numpy(), atol=1e-12
    )


def test_an_env_reset_behind_the_curriculum_is_caught_before_the_teacher_learns() -> None:
    env = EncodingEnv(8, seed=0)
    teacher = CheckingTeacher(SPACE, seed=0)
    curriculum = BatchedCurriculum(env, teacher)
    curriculum.reset()
    # Someone overwrites pending slots with params the curriculum never sent.
    env.set_next_params(np.arange(8), np.full((8, 2), 0.5))
    with pytest.raises(CurriculumMismatchError, match="behind the curriculum"):
        for step in range(1, 6):
            _, _, done, truncated, info = env.step(torch.zeros(8, dtype=torch.long))
            curriculum.on_step(info, done | truncated, step * 8)
        curriculum.end_rollout()
    assert teacher.n_updates == 0


def test_space_mismatch_and_bad_pool_are_rejected() -> None:
    env = EncodingEnv(4)
    other = make("random", ParamSpace.from_bounds({"a": (0.0, 2.0), "b": (0.0, 1.0)}), seed=0)
    with pytest.raises(ValueError, match="samples from"):
        BatchedCurriculum(env, other)
    with pytest.raises(ValueError, match="min_pool"):
        BatchedCurriculum(env, make("random", SPACE, seed=0), min_pool=0)


def test_stepping_before_reset_is_an_error() -> None:
    env = EncodingEnv(4)
    curriculum = BatchedCurriculum(env, make("random", SPACE, seed=0))
    with pytest.raises(RuntimeError, match="reset"):
        curriculum.on_step({}, torch.zeros(4, dtype=torch.bool), 4)


def test_on_the_real_batched_env_every_episode_is_played_with_the_teachers_params() -> None:
    from teachgym.envs.batched import BatchedGridNavigation

    env = BatchedGridNavigation(32, seed=0)
    teacher = make("alp-gmm", env.param_space, seed=0, fit_rate=20, max_components=3)
    curriculum = BatchedCurriculum(env, teacher)
    sampled: list[np.ndarray] = []
    original = teacher.sample_batch

    def record(n: int) -> np.ndarray:
        rows = original(n)
        sampled.append(rows)
        return rows

    teacher.sample_batch = record  # type: ignore[method-assign]
    curriculum.reset()
    played = []
    for step in range(1, 400):
        actions = torch.randint(0, 7, (32,), generator=torch.Generator().manual_seed(step))
        _, _, terminated, truncated, info = env.step(actions)
        curriculum.on_step(info, terminated | truncated, step * 32)
        if step % 50 == 0:
            played.append(curriculum.end_rollout().params)
    played_rows = np.concatenate(played)
    pool = np.concatenate(sampled)
    assert len(played_rows) > 50
    # The i-th episode to start is the i-th sample: episodes end out of order, so compare sets.
    as_set = {tuple(row) for row in pool.tolist()}
    assert all(tuple(row) in as_set for row in played_rows.tolist())
    assert teacher.n_updates == len(played_rows)
