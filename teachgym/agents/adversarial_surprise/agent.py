"""``AdversarialSurprise``: Explore and Control, two PPO policies sharing one body.

Fickinger et al. 2021, "Explore and Control with Adversarial Surprise" (arXiv:2107.07394).
Episodes of ``T`` steps alternate rounds between an *Explore* policy and a *Control* policy. A
density model, reset at each episode's start, is fitted to the observations of Control's rounds;
Control is rewarded with ``log p(o)`` of its observations (the second half of each of its rounds,
as in the authors' code), normalised by a running std of its returns; Explore receives, on the
last step of each of its rounds, minus Control's return in the round that follows. Both see the
env observation, the model's sufficient statistics and the time/phase of the episode
(``teachgym.agents.adversarial_surprise.game``).

How the two players train (one stable-baselines3 ``PPO`` object each):

- The episode loop here steps ``n_envs`` envs in lockstep (every env at the same step, so the
  same player acts in all of them) and writes each step into the acting player's SB3
  ``RolloutBuffer``; ``PPO.train()`` then does SB3's own update, with its policies, logger and
  device handling. Nothing of PPO is re-implemented.
- A player's trajectory is its own turns, in order. The other player's round between two of
  them is part of the environment's dynamics: the transition from a player's last step of one
  round to its first step of the next is one step of its MDP (discounted once by ``gamma``),
  as in the authors' code, where each player's buffer holds only its own steps and the mask
  is reset only at the episode's end. Explore's reward for a round is written into its buffer
  once the following Control round ends.
- Every rollout holds whole episodes (``episodes_per_rollout`` per env), so every reward is
  known before the update and no episode is cut by a rollout boundary.
- The end of an episode at ``T`` is *terminal* for both players, not a truncation: the game has
  a fixed horizon and the time is part of what each player observes, so no value is bootstrapped
  past it (Pardo et al. 2018, "Time Limits in Reinforcement Learning", §3).
- If the env itself ends before ``T`` (MiniGrid's goal reached, or a step limit below ``T``),
  the rest of the episode is played in an absorbing state: the last observation repeats and
  actions do nothing, so rounds and rewards keep their places. Envs built from an id get their
  step limit set to ``T`` (``teachgym.envs.make_env(..., max_steps=T)``).

Randomness: after construction nothing here reads global RNG state. The env seeds of every
episode come from a ``numpy.random.Generator``, actions are drawn with a ``torch.Generator`` per
player, and PPO's minibatches are shuffled with a seeded generator in the rollout buffer. Network
initialisation goes through SB3's ``seed=`` (which seeds the global generators, SB3's
convention, as in ``teachgym.agents.sb3.build_model``).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import math
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.logger import HumanOutputFormat, KVWriter, Logger
from stable_baselines3.common.type_aliases import RolloutBufferSamples
from stable_baselines3.common.vec_env import DummyVecEnv

from teachgym.agents.adversarial_surprise.density import (
    available_density_models,
    make_density_model,
)
from teachgym.agents.adversarial_surprise.envs import EnvSource, make_coverage_env, with_coverage
from teachgym.agents.adversarial_surprise.game import (
    CONTROL,
    EXPLORE,
    PLAYERS,
    MiniGridAdapter,
    RoundSchedule,
    SurpriseGame,
    make_adapter,
)
from teachgym.agents.adversarial_surprise.metrics import (
    CoverageMonitor,
    EpisodeCoverage,
    mean_coverage,
)
from teachgym.agents.adversarial_surprise.normalization import ReturnNormalizer
from teachgym.agents.sb3 import resolve_device
from teachgym.checks import check_choice, check_int, check_probability, check_real
from teachgym.envs import FixedParams
from teachgym.state_io import write_json_atomically

__all__ = ["AdversarialSurprise", "AdversarialSurpriseConfig", "GameState", "SeededRolloutBuffer"]

_META_FILE = "agent.json"
_FORMAT_VERSION = 1
_AgentT = TypeVar("_AgentT", bound="AdversarialSurprise")
Callback = Callable[["AdversarialSurprise", dict[str, float]], "bool | None"]


@dataclass
class AdversarialSurpriseConfig:
    """Everything that defines an Adversarial Surprise agent; saved as JSON by ``save``.

    Defaults follow the authors' MiniGrid setup (4 rounds of 32 steps, Explore first, the second
    half of each Control round scored, PPO with 4 epochs, entropy 0.01, learning rate 3e-4),
    with 8 envs instead of 16 for small machines.
    """

    n_envs: int = 8
    """Envs played in lockstep; each rollout holds ``n_envs * episodes_per_rollout`` episodes."""

    episode_length: int = 128
    """Steps per episode (``T``)."""

    num_rounds: int = 4
    """Rounds per episode, alternating between the players; must divide ``episode_length``."""

    first_player: str = EXPLORE
    """Who plays the first round: ``explore`` (the paper) or ``control``."""

    control_reward_start: float = 0.5
    """Fraction of each Control round before its observations are scored and fitted (the
    authors' ``no_reward_time``); 0 scores every Control step."""

    density: str = "auto"
    """Density model name (``categorical``, ``gaussian`` or one registered with
    ``register_density_model``); ``auto``: categorical for MiniGrid views, Gaussian for Box
    observations."""

    density_kwargs: dict[str, Any] = field(default_factory=dict)
    """The model's own arguments, e.g. ``{"floor": 1e-3}`` (categorical) or
    ``{"min_std": 0.1}`` (Gaussian)."""

    normalize_control_reward: bool = True
    """Divide Control's reward by a running std of its discounted returns (the authors'
    ``--norm-r``); Explore's reward is minus the normalised Control return."""

    episodes_per_rollout: int = 1
    """Episodes per env between two PPO updates."""

    learning_rate: float = 3e-4
    """Adam step size of both players."""

    n_epochs: int = 4
    """PPO epochs per update."""

    batch_size: int = 128
    """PPO minibatch size; at most the samples a player collects per rollout."""

    gamma: float = 0.99
    """Discount of both players (and of the return whose std scales Control's reward)."""

    gae_lambda: float = 0.95
    """GAE λ."""

    clip_range: float = 0.2
    """PPO's clipping parameter."""

    ent_coef: float = 0.01
    """Entropy bonus coefficient."""

    vf_coef: float = 0.5
    """Value loss coefficient."""

    max_grad_norm: float = 0.5
    """Gradient clipping norm."""

    net_arch: list[int] = field(default_factory=lambda: [64, 64])
    """Hidden layers of each player's policy and value networks (SB3 ``MlpPolicy``)."""

    env_id: str | None = None
    """The env's id when the agent was built from one (set by the constructor); ``load`` remakes
    the env from it."""

    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed to ``gymnasium.make`` with ``env_id``."""

    env_params: dict[str, float] | None = None
    """Params for every reset of a teachgym parameterized env (partial dicts fill the rest from
    defaults); ``None`` lets the env draw them (domain randomisation)."""

    @property
    def schedule(self) -> RoundSchedule:
        """The round schedule these fields describe (validated)."""
        return RoundSchedule(
            self.episode_length, self.num_rounds, self.first_player, self.control_reward_start
        )

    def validate(self) -> None:
        """Check every field that needs no env.

        Raises:
            ValueError: the first bad field, what it was and what was expected.
        """
        schedule = self.schedule
        check_int("n_envs", self.n_envs, minimum=1)
        check_int("episodes_per_rollout", self.episodes_per_rollout, minimum=1)
        check_int("n_epochs", self.n_epochs, minimum=1)
        check_int("batch_size", self.batch_size, minimum=2)
        samples = min(
            self.n_envs * self.episodes_per_rollout * schedule.player_steps(player)
            for player in PLAYERS
            if schedule.player_steps(player) > 0
        )
        if self.batch_size > samples:
            raise ValueError(
                f"batch_size={self.batch_size} is larger than the {samples} samples a player "
                "collects per rollout (n_envs * episodes_per_rollout * its steps per episode); "
                f"expected at most {samples}"
            )
        for name in ("gamma", "gae_lambda"):
            check_probability(name, getattr(self, name))
        for name in ("learning_rate", "clip_range", "max_grad_norm"):
            check_real(name, getattr(self, name), low=0.0, low_open=True)
        for name in ("ent_coef", "vf_coef"):
            check_real(name, getattr(self, name), low=0.0)
        if not isinstance(self.net_arch, list | tuple):
            raise ValueError(f"net_arch must be a list of positive ints; got {self.net_arch!r}")
        for index, width in enumerate(self.net_arch):
            check_int(f"net_arch[{index}]", width, minimum=1)
        check_choice(
            "density model", str(self.density).lower(), ("auto", *available_density_models())
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data (JSON-able)."""
        data = dataclasses.asdict(self)
        data["net_arch"] = list(self.net_arch)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdversarialSurpriseConfig:
        """The config ``to_dict`` wrote.

        Raises:
            ValueError: unknown fields.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config field(s) {unknown}; expected some of {sorted(known)}")
        return cls(**data)


def _fresh_seed() -> int:
    """A seed from the OS's entropy (global RNG state untouched)."""
    return int(np.random.SeedSequence().generate_state(1)[0] % 2**31)


class SeededRolloutBuffer(RolloutBuffer):
    """SB3's ``RolloutBuffer`` whose minibatch shuffling uses its own seeded generator.

    SB3 shuffles with NumPy's global generator; a generator of its own makes a player's updates
    reproducible whatever else the process draws, without touching global RNG state.

    Args:
        *args: ``RolloutBuffer``'s arguments.
        seed: Seed of the shuffling generator.
        **kwargs: ``RolloutBuffer``'s keyword arguments.
    """

    def __init__(self, *args: Any, seed: int | None = None, **kwargs: Any) -> None:
        self.rng = np.random.default_rng(seed)
        super().__init__(*args, **kwargs)

    def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
        assert self.full, "the rollout buffer is not full"
        total = self.buffer_size * self.n_envs
        indices = self.rng.permutation(total)
        if not self.generator_ready:
            for name in ("observations", "actions", "values", "log_probs", "advantages", "returns"):
                self.__dict__[name] = self.swap_and_flatten(self.__dict__[name])
            self.generator_ready = True
        size = total if batch_size is None else batch_size
        for start in range(0, total, size):
            yield self._get_samples(indices[start : start + size])


class _SpacesOnlyEnv(gym.Env):
    """Carries the player's spaces into SB3's ``PPO`` constructor; the game steps the real envs."""

    def __init__(self, observation_space: spaces.Space[Any], action_space: spaces.Space[Any]):
        self.observation_space = observation_space
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        raise RuntimeError("the Adversarial Surprise players are trained by the agent's own loop")

    def step(self, action: Any) -> Any:
        raise RuntimeError("the Adversarial Surprise players are trained by the agent's own loop")


@dataclass
class GameState:
    """``predict``'s recurrent state: the games in progress, one per env of the batch."""

    game: SurpriseGame
    started: np.ndarray

    @property
    def batch_size(self) -> int:
        """Envs the state tracks."""
        return self.game.batch_size


class AdversarialSurprise:
    """Adversarial Surprise: an Explore and a Control PPO policy competing over surprise.

    Follows stable-baselines3's verbs: ``learn``, ``predict``, ``save``, ``load``.

    Example::

        agent = AdversarialSurprise(
            "teachgym/NoisyRooms-v0",
            env_params={"num_rooms": 4, "noisy_fraction": 0.5},
            seed=0,
        )
        agent.learn(200_000)
        agent.save("runs/as-rooms")

    Args:
        env: An env id (made ``n_envs`` times, with ``env_kwargs``), a function returning a new
            env, or one env instance (``n_envs`` must then be 1). Observations must be
            MiniGrid-style (``image``/``direction``) or a ``Box``.
        config: All hyperparameters; ``None`` uses the defaults.
        seed: Root seed of everything random; ``None`` draws one (kept in ``self.seed``).
        device: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
        tensorboard_log: Folder for TensorBoard logs (a run folder per agent, with one
            sub-folder per player and ``game`` for the game's metrics); ``None``: no logs.
        verbose: 1 prints the game's metrics after each update.
        **overrides: Config fields to change (``n_envs=4``, ``episode_length=64`` …).

    Raises:
        ValueError: a bad config value (naming it), an unknown env id, an observation space the
            game cannot read, or a density model that does not fit it.
    """

    #: The schedule fields a subclass fixes (see ``SMiRL``); overriding them is an error.
    fixed_fields: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        env: EnvSource,
        config: AdversarialSurpriseConfig | None = None,
        *,
        seed: int | None = None,
        device: str = "auto",
        tensorboard_log: str | None = None,
        verbose: int = 0,
        **overrides: Any,
    ) -> None:
        config = self._resolve_config(env, config, overrides)
        self.config = config
        self.schedule = config.schedule
        self.seed = _fresh_seed() if seed is None else int(seed)
        self.device = resolve_device(device)
        self.tensorboard_log = tensorboard_log
        self.verbose = int(verbose)
        self.num_timesteps = 0
        self.metrics_history: list[dict[str, float]] = []

        self.envs = self._build_envs(env)
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space
        self.adapter = make_adapter(self.observation_space)
        self.game = SurpriseGame(self.schedule, self.adapter, self._make_density(config.n_envs))
        self.normalizer = ReturnNormalizer(config.n_envs, gamma=config.gamma)

        (env_seed, *player_seeds) = np.random.SeedSequence(self.seed).generate_state(7)
        self._env_rng = np.random.default_rng(int(env_seed))
        self.players: dict[str, PPO] = {}
        self._action_generators: dict[str, th.Generator] = {}
        for index, player in enumerate(PLAYERS):
            if self.schedule.player_steps(player) == 0:
                continue  # SMiRL: a schedule with a single Control round has no Explore player
            model_seed, buffer_seed, action_seed = (
                int(s) % 2**31 for s in player_seeds[3 * index : 3 * index + 3]
            )
            self.players[player] = self._build_player(player, model_seed, buffer_seed)
            generator = th.Generator(device=self.players[player].device)
            generator.manual_seed(action_seed)
            self._action_generators[player] = generator
        self._loggers: dict[str, Logger] | None = None

    # ------------------------------------------------------------------ construction
    def _resolve_config(
        self, env: EnvSource, config: AdversarialSurpriseConfig | None, overrides: dict[str, Any]
    ) -> AdversarialSurpriseConfig:
        config = dataclasses.replace(config) if config is not None else AdversarialSurpriseConfig()
        known = {f.name for f in dataclasses.fields(AdversarialSurpriseConfig)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown argument(s) {unknown}; config fields are {sorted(known - {'env_id'})}"
            )
        fixed = sorted(set(overrides) & set(self.fixed_fields))
        if fixed:
            raise ValueError(
                f"{type(self).__name__} fixes {fixed} to {[self.fixed_fields[k] for k in fixed]}"
            )
        config = dataclasses.replace(config, **overrides, **self.fixed_fields)
        if isinstance(env, str):
            config.env_id = env
        elif not (callable(env) or isinstance(env, gym.Env)):
            raise ValueError(
                f"env must be an env id, a function returning an env, or an env; got {env!r}"
            )
        else:
            config.env_id = None
        config.validate()
        return config

    def _build_envs(self, env: EnvSource) -> list[gym.Env]:
        config = self.config
        if isinstance(env, gym.Env):
            if config.n_envs != 1:
                raise ValueError(
                    f"an env instance plays one game at a time, but n_envs={config.n_envs}; pass "
                    "an env id or a function returning a new env, or set n_envs=1"
                )
            envs = [env]
        elif isinstance(env, str):
            return [
                make_coverage_env(env, config.env_kwargs, config.env_params, config.episode_length)
                for _ in range(config.n_envs)
            ]
        else:
            envs = [env() for _ in range(config.n_envs)]
            if not all(isinstance(made, gym.Env) for made in envs):
                raise ValueError(f"the env function {env!r} must return gymnasium envs")
        if config.env_params:
            envs = [FixedParams(made, config.env_params) for made in envs]
        return [with_coverage(made) for made in envs]

    def _make_density(self, batch_size: int) -> Any:
        name = str(self.config.density).lower()
        if name == "auto":
            name = "categorical" if isinstance(self.adapter, MiniGridAdapter) else "gaussian"
        return make_density_model(
            name, self.adapter.model_space, batch_size, **self.config.density_kwargs
        )

    def _build_player(self, player: str, model_seed: int, buffer_seed: int) -> PPO:
        config = self.config
        player_space = self.game.observation_space
        spaces_env = functools.partial(_SpacesOnlyEnv, player_space, self.action_space)
        return PPO(
            "MlpPolicy",
            DummyVecEnv([spaces_env] * config.n_envs),
            learning_rate=config.learning_rate,
            n_steps=self.schedule.player_steps(player) * config.episodes_per_rollout,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            clip_range=config.clip_range,
            ent_coef=config.ent_coef,
            vf_coef=config.vf_coef,
            max_grad_norm=config.max_grad_norm,
            rollout_buffer_class=SeededRolloutBuffer,
            rollout_buffer_kwargs={"seed": buffer_seed},
            policy_kwargs={"net_arch": list(config.net_arch)},
            seed=model_seed,
            device=self.device,
            verbose=0,
        )

    # ------------------------------------------------------------------ acting
    def _act(
        self, player: str, observations: np.ndarray, deterministic: bool = False
    ) -> tuple[np.ndarray, th.Tensor, th.Tensor]:
        """Actions, values and log-probabilities of ``player`` for a batch of its observations."""
        policy = self.players[player].policy
        with th.no_grad():
            obs = th.as_tensor(observations, device=policy.device)
            distribution = policy.get_distribution(obs)
            values = policy.predict_values(obs)
            if not deterministic and isinstance(self.action_space, spaces.Discrete):
                probs = distribution.distribution.probs  # type: ignore[union-attr]
                generator = self._action_generators[player]
                actions = th.multinomial(probs, 1, generator=generator).squeeze(1)
            else:
                # Non-Discrete action spaces sample from torch's global generator (SB3's way).
                actions = distribution.get_actions(deterministic=deterministic)
            log_probs = distribution.log_prob(actions)
        return actions.cpu().numpy(), values, log_probs

    def _env_action(self, action: np.ndarray) -> Any:
        if isinstance(self.action_space, spaces.Discrete):
            return int(action)
        if isinstance(self.action_space, spaces.Box):
            return np.clip(action, self.action_space.low, self.action_space.high)
        return action

    # ------------------------------------------------------------------ training
    def learn(
        self: _AgentT,
        total_timesteps: int,
        callback: Callback | None = None,
        progress_bar: bool = False,
    ) -> _AgentT:
        """Play and learn for at least ``total_timesteps`` env steps (summed over envs).

        Training proceeds in whole rollouts of ``n_envs * episodes_per_rollout`` episodes, so
        the step count is rounded up to a multiple of ``n_envs * episodes_per_rollout *
        episode_length``. After each rollout both players do a PPO update.

        Args:
            total_timesteps: Env steps to add to ``num_timesteps``.
            callback: Called after each update with the agent and the rollout's metrics (also
                appended to ``metrics_history``); returning ``False`` stops training.
            progress_bar: Show a progress bar on stderr.

        Returns:
            The agent.

        Raises:
            ValueError: ``total_timesteps`` below 1.
        """
        check_int("total_timesteps", total_timesteps, minimum=1)
        from teachgym._progress import progress_task

        config = self.config
        per_rollout = config.n_envs * config.episodes_per_rollout * config.episode_length
        rollouts = math.ceil(total_timesteps / per_rollout)
        start, target = self.num_timesteps, self.num_timesteps + rollouts * per_rollout
        loggers = self._ensure_loggers()
        with progress_task("adversarial surprise", target - start, enabled=progress_bar) as bar:
            for _ in range(rollouts):
                began = time.perf_counter()
                metrics = self.collect_rollout()
                self.num_timesteps += per_rollout
                for player, model in self.players.items():
                    model.num_timesteps = self.num_timesteps
                    model._update_current_progress_remaining(self.num_timesteps, target)
                    model.train()
                    loggers[player].dump(self.num_timesteps)
                metrics["timesteps"] = float(self.num_timesteps)
                metrics["fps"] = per_rollout / max(time.perf_counter() - began, 1e-9)
                self.metrics_history.append(metrics)
                self._log_game(loggers["game"], metrics)
                bar.update(self.num_timesteps - start)
                if callback is not None and callback(self, metrics) is False:
                    break
        return self

    def collect_rollout(self) -> dict[str, float]:
        """Play ``episodes_per_rollout`` episodes in every env into the players' rollout
        buffers (``players[name].rollout_buffer``), with returns and advantages computed.

        What ``learn`` does before each update; public so the game can be inspected.

        Returns:
            The rollout's metrics: mean raw ``log p`` of Control's scored observations, mean
            episode returns of both players, the reward scale, the fraction of episodes the env
            ended itself, and the mean coverage (``metrics.METRIC_NAMES``) on MiniGrid envs.
        """
        config, schedule, game = self.config, self.schedule, self.game
        batch = config.n_envs
        for model in self.players.values():
            model.rollout_buffer.reset()
            model.policy.set_training_mode(False)
        scored_log_probs: list[np.ndarray] = []
        control_returns: list[np.ndarray] = []
        explore_returns: list[np.ndarray] = []
        coverage: list[EpisodeCoverage] = []
        task_ended = 0

        for _ in range(config.episodes_per_rollout):
            observations = self._reset_envs()
            alive = np.ones(batch, dtype=bool)
            game.start()
            self.normalizer.reset()
            round_return = np.zeros(batch)  # Control's normalised return in the current round
            episode_control = np.zeros(batch)
            episode_explore = np.zeros(batch)
            explore_end: int | None = None  # buffer row of Explore's last step awaiting reward
            for step in range(schedule.episode_length):
                player = schedule.player_at(step)
                model = self.players[player]
                player_obs = game.player_observations(observations)
                actions, values, log_probs = self._act(player, player_obs)
                for i, env in enumerate(self.envs):
                    if alive[i]:
                        obs, _, terminated, truncated, _ = env.step(self._env_action(actions[i]))
                        observations[i] = obs
                        if terminated or truncated:
                            alive[i] = False
                            task_ended += int(terminated)
                raw = game.advance(observations)
                rewards = np.zeros(batch)
                if player == CONTROL:
                    if schedule.is_scored(step):
                        scored_log_probs.append(raw)
                    rewards = self.normalizer(raw) if config.normalize_control_reward else raw
                    round_return += rewards
                    episode_control += rewards
                start = np.full(batch, step == schedule.first_step(player))
                model.rollout_buffer.add(player_obs, actions, rewards, start, values, log_probs)
                if schedule.is_round_end(step):
                    if player == EXPLORE:
                        if schedule.explore_charged_round(schedule.round_of(step)) is not None:
                            explore_end = model.rollout_buffer.pos - 1
                    else:
                        if explore_end is not None:
                            # Explore's reward for its round: minus Control's return in this one.
                            explore_buffer = self.players[EXPLORE].rollout_buffer
                            explore_buffer.rewards[explore_end] = -round_return
                            episode_explore -= round_return
                            explore_end = None
                        round_return = np.zeros(batch)
            control_returns.append(episode_control)
            explore_returns.append(episode_explore)
            coverage.extend(env.summary() for env in self.envs if isinstance(env, CoverageMonitor))

        for model in self.players.values():
            # Each buffer ends on its player's last step of an episode: terminal, no bootstrap.
            model.rollout_buffer.compute_returns_and_advantage(
                last_values=th.zeros(batch), dones=np.ones(batch)
            )
        episodes = config.episodes_per_rollout * batch
        metrics = {
            "control_log_prob": float(np.mean(scored_log_probs)),
            "control_return": float(np.mean(control_returns)),
            "explore_return": float(np.mean(explore_returns)) if EXPLORE in self.players else 0.0,
            "reward_std": self.normalizer.std,
            "task_ended": task_ended / episodes,
        }
        if coverage:
            metrics.update(mean_coverage(coverage))
        return metrics

    def _reset_envs(self) -> list[Any]:
        seeds = self._env_rng.integers(0, 2**31 - 1, size=len(self.envs))
        return [env.reset(seed=int(seed))[0] for env, seed in zip(self.envs, seeds, strict=True)]

    # ------------------------------------------------------------------ logging
    def _ensure_loggers(self) -> dict[str, Logger]:
        if self._loggers is not None:
            return self._loggers
        names = ["game", *self.players]
        folder: Path | None = None
        if self.tensorboard_log is not None:
            from stable_baselines3.common.utils import get_latest_run_id

            name = type(self).__name__
            run = get_latest_run_id(self.tensorboard_log, name) + 1
            folder = Path(self.tensorboard_log) / f"{name}_{run}"
        loggers = {}
        for name in names:
            formats: list[KVWriter] = []
            if folder is not None:
                from stable_baselines3.common.logger import TensorBoardOutputFormat

                formats.append(TensorBoardOutputFormat(str(folder / name)))
            if name == "game" and self.verbose:
                formats.append(HumanOutputFormat(sys.stdout))
            loggers[name] = Logger(str(folder / name) if folder else None, formats)
        for player, model in self.players.items():
            model.set_logger(loggers[player])
        self._loggers = loggers
        return loggers

    def _log_game(self, logger: Logger, metrics: dict[str, float]) -> None:
        groups = {
            "control_log_prob": "game",
            "control_return": "game",
            "explore_return": "game",
            "reward_std": "game",
            "task_ended": "game",
            "fps": "time",
        }
        for key, value in metrics.items():
            if key == "timesteps" or (isinstance(value, float) and math.isnan(value)):
                continue
            logger.record(f"{groups.get(key, 'coverage')}/{key}", value)
        logger.record("time/total_timesteps", self.num_timesteps)
        logger.dump(self.num_timesteps)

    # ------------------------------------------------------------------ acting API
    def predict(
        self,
        observation: Any,
        state: GameState | None = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, GameState]:
        """The acting player's action(s) for env observation(s), SB3-style.

        The game is the recurrent state: pass back the returned ``state`` on the next call with
        the observation the action led to. A new game (density model reset, Explore's turn if
        it plays first) starts for an env on its first call, where ``episode_start`` is true,
        and after ``episode_length`` steps.

        Args:
            observation: One env observation, a list of them, or a vector env's batch.
            state: The previous call's state, or ``None`` to start.
            episode_start: One boolean per env: whether ``observation`` starts an episode.
            deterministic: The most likely action instead of a sample.

        Returns:
            The action (or an array of one action per env) and the new state.
        """
        observations, single = self.adapter.as_list(observation)
        count = len(observations)
        if state is None or state.batch_size != count:
            state = GameState(
                SurpriseGame(self.schedule, self.adapter, self._make_density(count)),
                np.zeros(count, dtype=bool),
            )
        restart = ~state.started.copy()
        if episode_start is not None:
            restart |= np.asarray(episode_start, dtype=bool).reshape(count)
        game = state.game
        if (~restart).any():
            game.advance(observations, ~restart)
        restart |= game.finished()
        if restart.any():
            game.start(restart)
            state.started[restart] = True
        player_obs = game.player_observations(observations)
        control = game.control_turn()
        shape = self.action_space.shape or ()
        actions = np.zeros((count, *shape), dtype=self.action_space.dtype or np.int64)
        for player, mask in ((CONTROL, control), (EXPLORE, ~control)):
            if mask.any():
                actions[mask] = self._act(player, player_obs[mask], deterministic)[0]
        return (actions[0] if single else actions), state

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the agent to folder ``path``: ``agent.json`` (config, seed, step count, reward
        normaliser, generator states) and one SB3 zip per player (weights and optimiser).

        Returns:
            The folder.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        for player, model in self.players.items():
            model.save(folder / f"{player}.zip")
        meta = {
            "format_version": _FORMAT_VERSION,
            "algorithm": type(self).__name__,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "num_timesteps": self.num_timesteps,
            "normalizer": self.normalizer.state_dict(),
            "rng": self._rng_state(),
        }
        write_json_atomically(folder / _META_FILE, meta)
        return folder

    @classmethod
    def load(
        cls: type[_AgentT], path: str | Path, env: EnvSource | None = None, *, device: str = "auto"
    ) -> _AgentT:
        """An agent written by ``save``, ready to ``predict`` or continue to ``learn``.

        Args:
            path: The folder ``save`` wrote.
            env: The env to play in; ``None`` remakes it from the saved ``env_id``.
            device: Where the networks go.

        Raises:
            FileNotFoundError: no such folder, or a file of the agent missing (named).
            ValueError: the folder holds another algorithm, an unreadable or incompatible file,
                or no env can be made.
        """
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"no saved {cls.__name__} at {folder}: not a folder")
        meta_path = folder / _META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"{meta_path} is missing: {folder} was not written by {cls.__name__}.save()"
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            algorithm = meta["algorithm"]
            config = AdversarialSurpriseConfig.from_dict(meta["config"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"cannot read {meta_path}: {error}") from None
        if algorithm != cls.__name__:
            raise ValueError(
                f"{folder} holds a {algorithm!r} agent, not {cls.__name__!r}; "
                f"load it with {algorithm}.load"
            )
        if env is None:
            if config.env_id is None:
                raise ValueError(
                    f"{folder} was trained on an env instance or function; pass env= to load it"
                )
            env = config.env_id
        fields = {k: v for k, v in config.to_dict().items() if k not in cls.fixed_fields}
        fields.pop("env_id")
        agent = cls(env, seed=int(meta["seed"]), device=device, **fields)
        for player, model in agent.players.items():
            weights = folder / f"{player}.zip"
            if not weights.is_file():
                raise FileNotFoundError(f"{weights} is missing: the {player} player's weights")
            try:
                model.set_parameters(str(weights), exact_match=True, device=agent.device)
            except (ValueError, RuntimeError, KeyError) as error:
                raise ValueError(f"cannot load {weights}: {error}") from None
        agent.num_timesteps = int(meta["num_timesteps"])
        for model in agent.players.values():
            model.num_timesteps = agent.num_timesteps
        agent.normalizer.load_state_dict(meta["normalizer"])
        agent._set_rng_state(meta.get("rng"))
        return agent

    def _rng_state(self) -> dict[str, Any]:
        return {
            "env": self._env_rng.bit_generator.state,
            "actions": {
                player: base64.b64encode(bytes(g.get_state().tolist())).decode("ascii")
                for player, g in self._action_generators.items()
            },
            "minibatches": {
                player: model.rollout_buffer.rng.bit_generator.state  # type: ignore[attr-defined]
                for player, model in self.players.items()
            },
        }

    def _set_rng_state(self, state: dict[str, Any] | None) -> None:
        if not state:
            return
        self._env_rng.bit_generator.state = state["env"]
        for player, encoded in state["actions"].items():
            raw = base64.b64decode(encoded)
            self._action_generators[player].set_state(th.tensor(list(raw), dtype=th.uint8))
        for player, rng_state in state["minibatches"].items():
            self.players[player].rollout_buffer.rng.bit_generator.state = rng_state  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close the envs."""
        for env in self.envs:
            env.close()

    def __repr__(self) -> str:
        env = self.config.env_id or type(self.envs[0].unwrapped).__name__
        return (
            f"{type(self).__name__}({env!r}, n_envs={self.config.n_envs}, "
            f"rounds={self.config.num_rounds}x{self.schedule.round_length}, seed={self.seed}, "
            f"device={self.device!r})"
        )
