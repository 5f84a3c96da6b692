"""The curriculum on the batched env's faces: exact pairing of params and returns, SB3 training."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from teachgym.envs.batched import GRID_NAVIGATION_PARAM_SPACE, BatchedGridNavigation
from teachgym.envs.batched.numpy_vector import BatchedNumpyVectorEnv
from teachgym.envs.batched.sb3 import BatchedSB3VecEnv
from teachgym.spaces import ParamSpace
from teachgym.teachers import Teacher
from teachgym.teachers.curriculum import TEACHER_SCORE_KEY, CurriculumVectorEnv
from teachgym.teachers.curriculum_sb3 import CurriculumVecEnv

#: A code ``c`` is sent as ``goal_distance = c / SCALE``: exact in float32, so the reward (and
#: the score) of an episode names the params it was played with.
SCALE = 65536.0


@pytest.fixture(autouse=True)
def _one_torch_thread():  # type: ignore[no-untyped-def]
    """One intra-op thread: on a loaded 2-core machine, torch's thread pool makes the small
    per-step tensor ops of a few hundred envs 10-100× slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class CodedBatchedNavigation(BatchedGridNavigation):
    """Episodes of ``1 + code % 3`` steps whose only reward, on the last step, is ``code / SCALE``
    (the episode's ``goal_distance``): a return names its episode's params."""

    def _after_step(
        self, actions: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        code = torch.round(self.params[:, 1] * SCALE).long()
        last = self.step_count >= 1 + code % 3
        return torch.where(last, self.params[:, 1], 0.0), last


class RecordingTeacher(Teacher):
    """Hands out a new code per sample (rooms of random size) and records every update."""

    def __init__(self, param_space: ParamSpace, *, seed: int | None = 0) -> None:
        super().__init__(param_space, seed=seed)
        self.sampled: list[int] = []
        self.updates: list[tuple[np.ndarray, float]] = []

    def _sample(self) -> np.ndarray:
        code = len(self.sampled) + 1
        self.sampled.append(code)
        return np.array([self.rng.uniform(5.0, 15.0), code / SCALE, 0.0, 0.0])

    def _update(self, params: np.ndarray, score: float) -> None:
        self.updates.append((params.copy(), score))


def pairing_mismatches(teacher: RecordingTeacher) -> int:
    """Updates whose score is not their params' code, whose code was never handed out, or that
    report a code twice."""
    handed_out = set(teacher.sampled)
    reported: Counter[int] = Counter()
    mismatches = 0
    for params, score in teacher.updates:
        code = round(params[1] * SCALE)
        reported[code] += 1
        if score != code / SCALE or code not in handed_out or reported[code] > 1:
            mismatches += 1
    return mismatches


def test_curriculum_vec_env_pairs_exactly_on_the_sb3_face() -> None:
    num_envs = 64
    teacher = RecordingTeacher(GRID_NAVIGATION_PARAM_SPACE, seed=0)
    venv = CurriculumVecEnv(BatchedSB3VecEnv(CodedBatchedNavigation(num_envs, seed=0)), teacher)
    venv.reset()
    rng = np.random.default_rng(0)
    for step in range(240):
        if step == 100:
            venv.reset()  # cuts the running episodes short: they are not reported
        _, _, dones, infos = venv.step(rng.integers(0, 7, num_envs))
        for i in np.flatnonzero(dones):
            assert infos[i]["teacher_score"] == infos[i]["params"][1]
    assert len(teacher.updates) > 5000
    assert pairing_mismatches(teacher) == 0
    # Every code handed out and not still pending or running was reported.
    unreported = set(teacher.sampled) - {round(p[1] * SCALE) for p, _ in teacher.updates}
    assert len(unreported) <= 3 * num_envs


def test_curriculum_vector_env_pairs_exactly_on_the_numpy_face() -> None:
    """Gymnasium's wrapper on the NumPy face (``SAME_STEP``): one pending set per env sent
    ahead through ``set_attr``, finished params read from ``final_info``; a mid-run reset cuts
    episodes short without reporting them."""
    num_envs = 32
    teacher = RecordingTeacher(GRID_NAVIGATION_PARAM_SPACE, seed=1)
    venv = CurriculumVectorEnv(
        BatchedNumpyVectorEnv(CodedBatchedNavigation(num_envs, seed=1)), teacher
    )
    venv.reset(seed=1)
    rng = np.random.default_rng(1)
    ended = 0
    for step in range(200):
        if step == 100:
            venv.reset()
        _, _, terminations, truncations, info = venv.step(rng.integers(0, 7, num_envs))
        done = np.flatnonzero(terminations | truncations)
        for i in done:
            assert info[TEACHER_SCORE_KEY][i] == info["final_info"]["params"][i][1]
        ended += len(done)
    assert len(teacher.updates) == ended > 2000
    assert pairing_mismatches(teacher) == 0
    # Never reported, per env: the episode the reset cut, the running one, the pending set.
    assert teacher.n_samples == ended + 3 * num_envs


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_sb3_ppo_learns_on_256_batched_envs() -> None:
    from stable_baselines3 import PPO

    torch.manual_seed(0)
    venv = BatchedSB3VecEnv(BatchedGridNavigation(256, seed=0))
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=4,
        batch_size=256,
        n_epochs=1,
        policy_kwargs={"net_arch": [16]},
        seed=0,
        device="cpu",
    )
    model.learn(total_timesteps=4096)
    assert model.num_timesteps >= 4096
    assert len(model.ep_info_buffer) > 0  # episodes reported through info["episode"]
