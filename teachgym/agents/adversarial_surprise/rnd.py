"""RND baseline: PPO with a random-network-distillation intrinsic reward (Burda et al. 2018,
"Exploration by Random Network Distillation", arXiv:1810.12894).

A fixed, randomly initialised *target* network embeds each observation; a *predictor* network
is trained online to match it. The prediction error is high on observations unlike those seen
so far, and is the intrinsic reward. Curiosity of this kind is the method Adversarial Surprise
is compared with (Fickinger et al. 2021, §5): it is drawn to noise that never becomes
predictable, such as a noisy TV.

``RNDRewardWrapper`` is a stable-baselines3 ``VecEnvWrapper``, so any SB3 algorithm trains on
the intrinsic reward unchanged; ``build_rnd_ppo`` builds the PPO baseline of the benchmark. As in
the paper, observations are whitened by running statistics and clipped to [-5, 5] before both
networks (§2.4), the intrinsic reward is divided by a running std of its (non-episodic)
discounted return (``ReturnNormalizer``), and the predictor is trained on the collected
observations in a few minibatch epochs every ``update_interval`` steps. Simplification: one
value head on the mixed reward (the paper's two heads matter for long-horizon extrinsic tasks;
here the default is the intrinsic reward alone, as an unsupervised explorer).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from teachgym.agents.adversarial_surprise.envs import env_factory
from teachgym.agents.adversarial_surprise.normalization import ReturnNormalizer
from teachgym.agents.sb3 import build_model, resolve_device
from teachgym.checks import check_int, check_real

__all__ = ["RND_PPO_DEFAULTS", "RNDRewardWrapper", "build_rnd_ppo"]

#: PPO settings of the RND baseline: those of ``AdversarialSurpriseConfig`` (4 epochs, entropy
#: 0.01, learning rate 3e-4, 64-64 MLP), with 128-step rollouts per env.
RND_PPO_DEFAULTS: dict[str, Any] = {
    "n_steps": 128,
    "batch_size": 128,
    "n_epochs": 4,
    "learning_rate": 3e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ent_coef": 0.01,
    "policy_kwargs": {"net_arch": [64, 64]},
}


def _mlp(sizes: Sequence[int]) -> th.nn.Sequential:
    layers: list[th.nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(th.nn.Linear(fan_in, fan_out))
        if index < len(sizes) - 2:
            layers.append(th.nn.LeakyReLU())
    return th.nn.Sequential(*layers)


class RNDRewardWrapper(VecEnvWrapper):
    """Add (or substitute) RND's intrinsic reward to a vector env's reward.

    The reward returned is ``extrinsic_coef * env_reward + intrinsic_coef * intrinsic`` with
    ``intrinsic`` the normalised prediction error of the step's next observation (the terminal
    observation on a step that ends an episode). ``info["intrinsic_reward"]`` holds the raw
    error.

    Args:
        venv: A vector env with flat ``Box`` observations (e.g. MiniGrid through
            ``GridFlatObs``).
        intrinsic_coef: Weight of the normalised intrinsic reward.
        extrinsic_coef: Weight of the env's reward (0: a purely curious explorer).
        embedding_size: Output size of the target and predictor networks.
        hidden_sizes: Hidden layers of both networks (the predictor gets one more, as in the
            paper, so it can fit the target).
        learning_rate: Adam step size of the predictor.
        update_interval: Vector steps between two predictor updates.
        n_epochs: Passes over the collected observations per update.
        batch_size: Predictor minibatch size.
        gamma: Discount of the intrinsic return whose std scales the reward.
        obs_clip: Whitened observations are clipped to ``[-obs_clip, obs_clip]``.
        seed: Seed of the networks' initialisation and the minibatch shuffling (global RNG
            state is left untouched).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        ValueError: observations that are not a flat ``Box``, or a bad hyperparameter.
    """

    def __init__(
        self,
        venv: VecEnv,
        *,
        intrinsic_coef: float = 1.0,
        extrinsic_coef: float = 0.0,
        embedding_size: int = 64,
        hidden_sizes: Sequence[int] = (128, 128),
        learning_rate: float = 1e-4,
        update_interval: int = 128,
        n_epochs: int = 4,
        batch_size: int = 256,
        gamma: float = 0.99,
        obs_clip: float = 5.0,
        seed: int | None = None,
        device: str = "auto",
    ) -> None:
        space = venv.observation_space
        if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
            raise ValueError(
                f"RND needs flat Box observations (wrap MiniGrid with GridFlatObs); got {space}"
            )
        embedding_size = check_int("embedding_size", embedding_size, minimum=1)
        hidden = [check_int("hidden_sizes entry", width, minimum=1) for width in hidden_sizes]
        learning_rate = check_real("learning_rate", learning_rate, low=0.0, low_open=True)
        super().__init__(venv)
        self.intrinsic_coef = check_real("intrinsic_coef", intrinsic_coef)
        self.extrinsic_coef = check_real("extrinsic_coef", extrinsic_coef)
        self.update_interval = check_int("update_interval", update_interval, minimum=1)
        self.n_epochs = check_int("n_epochs", n_epochs, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.obs_clip = check_real("obs_clip", obs_clip, low=0.0, low_open=True)
        self.device = th.device(resolve_device(device))
        self.rng = np.random.default_rng(seed)
        size = int(space.shape[0])
        with th.random.fork_rng(devices=[]):
            th.manual_seed(int(self.rng.integers(2**31)))
            self.target = _mlp([size, *hidden, embedding_size]).to(self.device)
            self.predictor = _mlp([size, *hidden, hidden[-1], embedding_size]).to(self.device)
        self.target.requires_grad_(False)
        self.optimizer = th.optim.Adam(self.predictor.parameters(), lr=learning_rate)
        self.obs_stats = RunningMeanStd(shape=(size,))
        self.reward_normalizer = ReturnNormalizer(self.num_envs, gamma=gamma)
        self._memory: list[np.ndarray] = []
        self.predictor_loss = float("nan")

    def reset(self) -> VecEnvObs:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        next_obs = np.array(obs, dtype=np.float32, copy=True)
        for index, done in enumerate(dones):
            if done and "terminal_observation" in infos[index]:
                next_obs[index] = infos[index]["terminal_observation"]
        intrinsic = self.intrinsic_reward(next_obs, update_stats=True)
        self._memory.append(self._whiten(next_obs))
        if len(self._memory) >= self.update_interval:
            self._train_predictor()
        # Non-episodic intrinsic return (Burda et al. 2018, §2.3): the scale is not reset at dones.
        scaled = self.reward_normalizer(intrinsic)
        for info, value in zip(infos, intrinsic, strict=True):
            info["intrinsic_reward"] = float(value)
        mixed = self.extrinsic_coef * rewards + self.intrinsic_coef * scaled
        return obs, mixed.astype(np.float32), dones, infos

    def intrinsic_reward(self, observations: np.ndarray, update_stats: bool = False) -> np.ndarray:
        """The raw prediction error (mean squared, per observation) of a batch of observations.

        Args:
            observations: ``(batch, obs_size)``.
            update_stats: Fold the batch into the whitening statistics first (training).
        """
        batch = np.asarray(observations, dtype=np.float32).reshape(-1, self.obs_stats.mean.size)
        if update_stats:
            self.obs_stats.update(batch)
        with th.no_grad():
            inputs = th.as_tensor(self._whiten(batch), device=self.device)
            error = (self.predictor(inputs) - self.target(inputs)).pow(2).mean(dim=1)
        return error.cpu().numpy().astype(np.float64)

    def _whiten(self, observations: np.ndarray) -> np.ndarray:
        std = np.sqrt(self.obs_stats.var + 1e-8)
        whitened = (observations - self.obs_stats.mean) / std
        return np.clip(whitened, -self.obs_clip, self.obs_clip).astype(np.float32)

    def _train_predictor(self) -> None:
        data = th.as_tensor(np.concatenate(self._memory), device=self.device)
        self._memory = []
        losses = []
        for _ in range(self.n_epochs):
            order = th.as_tensor(self.rng.permutation(len(data)), device=self.device)
            for start in range(0, len(data), self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                loss = (self.predictor(batch) - self.target(batch)).pow(2).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
        self.predictor_loss = float(np.mean(losses))


def build_rnd_ppo(
    env_id: str,
    *,
    n_envs: int = 8,
    env_kwargs: Mapping[str, Any] | None = None,
    env_params: Mapping[str, float] | None = None,
    episode_length: int | None = 128,
    seed: int | None = None,
    device: str = "auto",
    ppo_kwargs: Mapping[str, Any] | None = None,
    rnd_kwargs: Mapping[str, Any] | None = None,
    tensorboard_log: str | None = None,
    verbose: int = 0,
) -> PPO:
    """SB3 PPO trained on RND's intrinsic reward, on the env the benchmark gives every method.

    Each sub-env is ``make_coverage_env(env_id, ..., obs="auto")`` (fixed params, the step limit
    at ``episode_length``, ``CoverageMonitor``, ``GridFlatObs`` on MiniGrid) inside SB3's
    ``Monitor``; the RND wrapper is ``model.get_env()``. Pass ``CoverageLoggerCallback()`` to
    ``learn`` to log coverage.

    Args:
        env_id: A registered env id.
        n_envs: Sub-envs (``DummyVecEnv``).
        env_kwargs: Passed to ``gymnasium.make``.
        env_params: Fixed params for every episode of a teachgym parameterized env.
        episode_length: Episode length (``None`` keeps the env's own).
        seed: Seed of the model, the envs and the RND networks.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        ppo_kwargs: PPO arguments overriding ``RND_PPO_DEFAULTS``.
        rnd_kwargs: ``RNDRewardWrapper`` arguments.
        tensorboard_log: SB3's TensorBoard folder.
        verbose: SB3 verbosity.

    Raises:
        ValueError: unknown env id, bad params or arguments.
    """
    from stable_baselines3.common.env_util import make_vec_env

    factory = env_factory(env_id, env_kwargs, env_params, episode_length, obs="auto")
    venv = make_vec_env(factory, n_envs=int(n_envs), seed=seed, vec_env_cls=DummyVecEnv)
    wrapped = RNDRewardWrapper(venv, seed=seed, device=device, **dict(rnd_kwargs or {}))
    kwargs = {**RND_PPO_DEFAULTS, **dict(ppo_kwargs or {})}
    return build_model(
        "ppo",
        wrapped,
        seed=seed,
        device=device,
        verbose=verbose,
        tensorboard_log=tensorboard_log,
        **kwargs,
    )  # type: ignore[return-value]
