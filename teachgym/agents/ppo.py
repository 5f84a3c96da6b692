"""``BatchedPPO``: PPO whose whole loop (rollout, GAE, update) stays on one torch device.

stable-baselines3 moves every env step through NumPy and Python; with teachgym's batched grid envs
(``teachgym.envs.batched``) that round trip, not the env, is the bottleneck. This module is PPO
(Schulman et al. 2017, "Proximal Policy Optimization Algorithms") written in the style of
cleanrl's single-file PPO (Huang et al. 2022, "The 37 implementation details of PPO"): one
module a reader can follow top to bottom, with the details that matter —

- rollouts of ``n_steps`` steps of every env into tensors on the env's device;
- generalised advantage estimation (Schulman et al. 2016), the value of a *truncated* episode's
  last observation bootstrapped into its last reward (as stable-baselines3 does), terminated
  episodes not bootstrapped;
- the clipped surrogate objective, optional value clipping, optional per-minibatch advantage
  normalisation, an entropy bonus, ``n_epochs`` passes over shuffled minibatches, gradient norm
  clipping, Adam with a learning rate decayed linearly to 0 over the run;
- orthogonal initialisation (gain √2 for hidden layers, 0.01 for the policy head, 1 for the
  value head).

Networks for MiniGrid's symbolic 7 × 7 × 3 view (``GridActorCritic``):

- ``"mlp"`` (default): exactly stable-baselines3's ``MlpPolicy`` on ``GridFlatObs`` (separate
  64-64 tanh actor and critic on the one-hot view and direction), but its first layer reads the
  one-hot input as what it is — a sum of 148 weight rows — with one ``EmbeddingBag`` instead of a
  984-wide matrix product (about 7× fewer operations, same function);
- ``"cnn"``: learned embeddings of object, colour and state codes, two 3 × 3 convolutions and a
  shared trunk, closer to what the MiniGrid literature trains (e.g. Fickinger et al. 2021).

Randomness: every draw (action sampling, minibatch order, initial weights) comes from a
``torch.Generator`` seeded from ``seed``; no global RNG state is read or written.

``predict``, ``save``, ``load`` and ``learn`` follow stable-baselines3's verbs (``teachgym.agents.
base.Agent``), so ``teachgym.training.evaluate`` plays the MiniGrid-based test set with it: its
observations are MiniGrid's own ``Dict`` (``obs="none"``; the ``mission`` text is ignored).

The trainer with the teacher in the loop is ``teachgym.training.batched``; this module knows
nothing of teachers. Hooks (``RolloutHooks``) let it see every step and every rollout.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from teachgym.checks import check_choice, check_int, check_real

if TYPE_CHECKING:
    from typing import Self

__all__ = [
    "NETWORKS",
    "BatchedPPO",
    "GridActorCritic",
    "PPOConfig",
    "RolloutHooks",
    "RolloutTimes",
]

NETWORKS: tuple[str, ...] = ("mlp", "cnn")

# MiniGrid's table sizes (minigrid.core.constants), restated so that MiniGrid is not imported.
_NUM_OBJECTS, _NUM_COLOURS, _NUM_STATES = 11, 6, 3
_CELL_CODES = _NUM_OBJECTS + _NUM_COLOURS + _NUM_STATES  # 20, as GridFlatObs
_VIEW_CELLS = 49
_NUM_DIRECTIONS = 4
_SAVE_FORMAT = 1


@dataclass
class PPOConfig:
    """PPO's hyperparameters (defaults: stable-baselines3's PPO defaults where they apply to
    batched envs, cleanrl's where they do not). ``validate`` checks them all."""

    n_steps: int = 16
    """Steps of every env per rollout (a rollout is ``n_steps × num_envs`` samples)."""
    n_epochs: int = 4
    """Passes over each rollout."""
    n_minibatches: int = 8
    """Minibatches per pass (each ``n_steps × num_envs / n_minibatches`` samples)."""
    learning_rate: float = 2.5e-4
    """Adam's initial learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the run's updates."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """GAE's λ."""
    clip_range: float = 0.2
    """PPO's ratio clip ε."""
    clip_range_vf: float | None = None
    """Clip the value change per update to this (``None``: no value clipping)."""
    normalize_advantage: bool = True
    """Normalise advantages per minibatch."""
    ent_coef: float = 0.01
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Gradient norm clip."""
    target_kl: float | None = None
    """Stop a rollout's epochs early once the approximate KL exceeds this (``None``: never)."""
    network: str = "mlp"
    """``mlp`` or ``cnn`` (see the module docstring)."""
    hidden: int = 64
    """Width of the hidden layers (``mlp``: actor and critic each; ``cnn``: the trunk is 2×)."""
    compile: bool = False
    """``torch.compile`` the network (needs a working compiler toolchain)."""

    def validate(self) -> None:
        """Check every field.

        Raises:
            ValueError: naming the field, the bad value and what was expected.
        """
        check_int("n_steps", self.n_steps, minimum=1)
        check_int("n_epochs", self.n_epochs, minimum=1)
        check_int("n_minibatches", self.n_minibatches, minimum=1)
        check_int("hidden", self.hidden, minimum=1)
        check_real("learning_rate", self.learning_rate, low=0.0, low_open=True)
        check_real("gamma", self.gamma, low=0.0, high=1.0)
        check_real("gae_lambda", self.gae_lambda, low=0.0, high=1.0)
        check_real("clip_range", self.clip_range, low=0.0, low_open=True)
        if self.clip_range_vf is not None:
            check_real("clip_range_vf", self.clip_range_vf, low=0.0, low_open=True)
        if self.target_kl is not None:
            check_real("target_kl", self.target_kl, low=0.0, low_open=True)
        check_real("ent_coef", self.ent_coef, low=0.0)
        check_real("vf_coef", self.vf_coef, low=0.0)
        check_real("max_grad_norm", self.max_grad_norm, low=0.0, low_open=True)
        check_choice("network", self.network, NETWORKS)
        for name in ("anneal_lr", "normalize_advantage", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false; got {getattr(self, name)!r}")

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> PPOConfig:
        """A validated config from ``{field: value}``.

        Raises:
            ValueError: an unknown field (listing the valid ones) or a bad value.
        """
        names = [spec.name for spec in dataclasses.fields(cls)]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise ValueError(
                f"unknown PPO hyperparameter(s) {unknown}; expected some of: {', '.join(names)}"
            )
        config = cls(**dict(kwargs))
        config.validate()
        return config


class RolloutHooks(Protocol):
    """What ``BatchedPPO.learn`` tells its caller (e.g. the trainer's curriculum)."""

    def on_rollout_start(self, agent: BatchedPPO) -> None:
        """Before a rollout is collected (the previous update is done)."""

    def on_step(self, agent: BatchedPPO, info: dict[str, Any], done: torch.Tensor) -> None:
        """After every env step; ``done`` is ``terminated | truncated``."""

    def on_rollout_end(self, agent: BatchedPPO) -> bool:
        """After the rollout's update; ``False`` stops training."""
        ...


@dataclass
class RolloutTimes:
    """Seconds spent per part of training, summed over rollouts (for the time breakdown)."""

    env: float = 0.0
    policy: float = 0.0
    update: float = 0.0
    hooks: float = 0.0
    rollouts: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "env_s": self.env,
            "policy_s": self.policy,
            "update_s": self.update,
            "hooks_s": self.hooks,
            "rollouts": float(self.rollouts),
            **self.extra,
        }


# ---------------------------------------------------------------------------------- network
_Layer = TypeVar("_Layer", bound=nn.Module)


def _orthogonal(layer: _Layer, gain: float) -> _Layer:
    nn.init.orthogonal_(layer.weight, gain)  # type: ignore[arg-type]
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)  # type: ignore[arg-type]
    return layer


class _OneHotLinear(torch.autograd.Function):
    """``one_hot(codes) @ weight`` for rows of distinct active inputs ``codes`` ``(n, k)``: the
    forward pass is an ``embedding_bag`` sum (``k`` weight rows per sample, not a product with a
    mostly-zero matrix), the backward pass the dense product ``one_hot(codes).T @ grad``, which on
    CPU is several times faster than ``embedding_bag``'s sort-based backward for PPO's
    minibatches. Codes within a row must be distinct (each is one cell's channel, or the
    direction), so the one-hot matrix holds 0s and 1s."""

    @staticmethod
    def forward(ctx: Any, weight: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(codes)
        ctx.inputs = weight.shape[0]
        return F.embedding_bag(codes, weight, mode="sum")

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (codes,) = ctx.saved_tensors
        # A zero matrix kept between calls: set the active entries, multiply, clear them again
        # (zeroing the whole matrix each time costs a third of the product).
        key = (codes.shape[0], ctx.inputs, grad.dtype, grad.device)
        one_hot = _ONE_HOT_BUFFERS.get(key)
        if one_hot is None:
            _ONE_HOT_BUFFERS.clear()  # one minibatch shape at a time is the common case
            one_hot = torch.zeros(key[:2], dtype=grad.dtype, device=grad.device)
            _ONE_HOT_BUFFERS[key] = one_hot
        one_hot.scatter_(1, codes, 1.0)
        weight_grad = one_hot.T @ grad
        one_hot.scatter_(1, codes, 0.0)
        return weight_grad, None


_ONE_HOT_BUFFERS: dict[tuple[Any, ...], torch.Tensor] = {}


class GridActorCritic(nn.Module):
    """Actor and critic for MiniGrid's symbolic view: ``forward(image, direction)`` returns
    ``(logits (n, num_actions), value (n,))``.

    Args:
        network: ``"mlp"`` or ``"cnn"`` (see the module docstring).
        hidden: Hidden width.
        num_actions: Size of the discrete action space.
        generator: Source of the initial weights.
    """

    _code_offset: torch.Tensor
    _code_limit: torch.Tensor

    def __init__(
        self,
        network: str = "mlp",
        hidden: int = 64,
        num_actions: int = 7,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.network = check_choice("network", network, NETWORKS)
        self.hidden = hidden
        self.num_actions = num_actions
        # Where each cell's object / colour / state code starts in the one-hot layout of
        # GridFlatObs: cell c's object o is input c * 20 + o, its colour c * 20 + 11 + colour,
        # its state c * 20 + 17 + state.
        cell_start = torch.arange(_VIEW_CELLS)[:, None] * _CELL_CODES
        channel_start = torch.tensor([0, _NUM_OBJECTS, _NUM_OBJECTS + _NUM_COLOURS])
        self.register_buffer("_code_offset", (cell_start + channel_start).reshape(1, -1))
        self.actor: nn.Module
        self.critic: nn.Module
        self.register_buffer(
            "_code_limit", torch.tensor([_NUM_OBJECTS, _NUM_COLOURS, _NUM_STATES]).repeat(49)
        )
        # nn's initialisers draw from torch's global generator: run them on a forked copy of it
        # seeded from ``generator``, so the global state is left as it was.
        seed = int(torch.randint(2**62, (1,), generator=generator)) if generator else None
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            if network == "mlp":
                inputs = _VIEW_CELLS * _CELL_CODES + _NUM_DIRECTIONS  # 984, as GridFlatObs
                # First layers of the actor and the critic side by side: (inputs, 2 * hidden).
                self.first = nn.EmbeddingBag(inputs, 2 * hidden, mode="sum")
                weight = torch.empty(2 * hidden, inputs)
                nn.init.orthogonal_(weight[:hidden], math.sqrt(2))
                nn.init.orthogonal_(weight[hidden:], math.sqrt(2))
                self.first.weight.data.copy_(weight.T)
                self.first_bias = nn.Parameter(torch.zeros(2 * hidden))
                self.actor = nn.Sequential(
                    nn.Tanh(),
                    _orthogonal(nn.Linear(hidden, hidden), math.sqrt(2)),
                    nn.Tanh(),
                    _orthogonal(nn.Linear(hidden, num_actions), 0.01),
                )
                self.critic = nn.Sequential(
                    nn.Tanh(),
                    _orthogonal(nn.Linear(hidden, hidden), math.sqrt(2)),
                    nn.Tanh(),
                    _orthogonal(nn.Linear(hidden, 1), 1.0),
                )
            else:
                self.objects = nn.Embedding(_NUM_OBJECTS, 8)
                self.colours = nn.Embedding(_NUM_COLOURS, 4)
                self.states = nn.Embedding(_NUM_STATES, 4)
                self.directions = nn.Embedding(_NUM_DIRECTIONS, 8)
                self.conv = nn.Sequential(
                    _orthogonal(nn.Conv2d(16, 32, 3), math.sqrt(2)),
                    nn.ReLU(),
                    _orthogonal(nn.Conv2d(32, 64, 3), math.sqrt(2)),
                    nn.ReLU(),
                    nn.Flatten(),
                )
                self.trunk = nn.Sequential(
                    _orthogonal(nn.Linear(64 * 9 + 8, 2 * hidden), math.sqrt(2)), nn.ReLU()
                )
                self.actor = _orthogonal(nn.Linear(2 * hidden, num_actions), 0.01)
                self.critic = _orthogonal(nn.Linear(2 * hidden, 1), 1.0)

    def forward(
        self, image: torch.Tensor, direction: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``image`` ``(n, 7, 7, 3)`` integer codes, ``direction`` ``(n,)`` in 0..3."""
        n = image.shape[0]
        if self.network == "mlp":
            codes = image.reshape(n, -1).long() + self._code_offset
            inputs = torch.cat([codes, direction.long()[:, None] + _VIEW_CELLS * _CELL_CODES], 1)
            first = _OneHotLinear.apply(self.first.weight, inputs) + self.first_bias
            hidden = self.hidden
            return self.actor(first[:, :hidden]), self.critic(first[:, hidden:]).squeeze(1)
        codes = image.long()
        cells = torch.cat(
            [self.objects(codes[..., 0]), self.colours(codes[..., 1]), self.states(codes[..., 2])],
            dim=-1,
        )  # (n, column, row, 16)
        features = self.conv(cells.permute(0, 3, 2, 1))
        trunk = self.trunk(torch.cat([features, self.directions(direction.long())], dim=1))
        return self.actor(trunk), self.critic(trunk).squeeze(1)

    def check_codes(self, image: torch.Tensor, direction: torch.Tensor) -> None:
        """``ValueError`` if a code is outside MiniGrid's tables (an embedding would read
        another cell's weights, or fail with an opaque index error)."""
        flat = image.reshape(image.shape[0], -1).long()
        if bool(((flat < 0) | (flat >= self._code_limit)).any()):
            raise ValueError(
                "image codes must be MiniGrid's (object 0..10, colour 0..5, state 0..2); got "
                f"values in [{int(flat.min())}, {int(flat.max())}]"
            )
        if bool(((direction < 0) | (direction >= _NUM_DIRECTIONS)).any()):
            raise ValueError(f"direction must be in 0..3; got {direction.tolist()[:8]}")


# ---------------------------------------------------------------------------------- PPO
class BatchedPPO:
    """PPO on a batched env's device (see the module docstring).

    Args:
        env: A batched env with the torch-tensor interface (``teachgym.envs.batched``), or
            ``None`` for a model that only predicts (``load`` builds those).
        config: Hyperparameters (a ``PPOConfig`` or its fields as a dict).
        seed: Seed of the model's ``torch.Generator`` (weights, actions, minibatches).
        device: Torch device; ``None`` takes the env's (``cpu`` without an env).

    Raises:
        ValueError: bad hyperparameters, or a device other than the env's.
    """

    def __init__(
        self,
        env: Any = None,
        config: PPOConfig | Mapping[str, Any] | None = None,
        *,
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        if config is None:
            config = PPOConfig()
        elif not isinstance(config, PPOConfig):
            config = PPOConfig.from_kwargs(config)
        config.validate()
        self.config = config
        self.seed = check_int("seed", seed, minimum=0)
        env_device = getattr(env, "device", None)
        chosen = device if device is not None else env_device
        self.device = torch.device(chosen if chosen is not None else "cpu")
        if env is not None and torch.device(str(env_device)) != self.device:
            raise ValueError(f"device {self.device} differs from the env's {env_device}")
        self.env = env
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(self.seed)
        init_generator = torch.Generator().manual_seed(self.seed)
        num_actions = int(getattr(getattr(env, "single_action_space", None), "n", 7))
        self.policy = GridActorCritic(
            config.network, config.hidden, num_actions, generator=init_generator
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.policy.parameters(), lr=config.learning_rate, eps=1e-5
        )
        self._forward = torch.compile(self.policy) if config.compile else self.policy
        self.num_timesteps = 0
        self.num_updates = 0
        self.times = RolloutTimes()
        self.last_metrics: dict[str, float] = {}
        #: A stable-baselines3 ``Logger`` the trainer sets (``record``/``dump``); ``None``: none.
        self.logger: Any = None
        self._obs: dict[str, torch.Tensor] | None = None
        self._buffers: dict[str, torch.Tensor] | None = None

    # ------------------------------------------------------------------ acting
    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, None]:
        """Actions for a batch of MiniGrid observations (or one), as stable-baselines3 returns.

        Args:
            observation: A ``Dict`` observation (``image`` ``(7, 7, 3)`` or ``(n, 7, 7, 3)``,
                ``direction`` scalar or ``(n,)``; other keys such as ``mission`` ignored), NumPy
                arrays or tensors.
            state, episode_start: Unused (the policy is not recurrent).
            deterministic: The most likely action instead of a sample.

        Returns:
            ``(actions, None)``: int64 NumPy actions, ``(n,)`` (a scalar for one observation).

        Raises:
            ValueError: not a MiniGrid-style observation, or codes outside MiniGrid's tables.
        """
        del state, episode_start
        if not isinstance(observation, Mapping) or not {"image", "direction"} <= set(observation):
            raise ValueError(
                "observation must be a MiniGrid-style dict with 'image' and 'direction' "
                f"(the env's own observations, obs='none'); got {type(observation).__name__}"
            )
        image = torch.as_tensor(np.asarray(observation["image"]), device=self.device)
        direction = torch.as_tensor(np.asarray(observation["direction"]), device=self.device)
        single = image.dim() == 3
        if single:
            image, direction = image[None], direction.reshape(1)
        if image.shape[1:] != (7, 7, 3) or direction.shape != (image.shape[0],):
            raise ValueError(
                "observation image must be (7, 7, 3) or (n, 7, 7, 3) with one direction per "
                f"row; got image {tuple(image.shape)}, direction {tuple(direction.shape)}"
            )
        self.policy.check_codes(image, direction)
        with torch.no_grad():
            logits, _ = self.policy(image, direction)
            actions = logits.argmax(1) if deterministic else self._sample(logits)
        result = actions.cpu().numpy()
        return (result[0] if single else result), None

    def _sample(self, logits: torch.Tensor) -> torch.Tensor:
        """Categorical samples from ``logits`` with the model's generator (Gumbel-max)."""
        noise = torch.rand(logits.shape, device=logits.device, generator=self.generator)
        return (logits - torch.log(-torch.log(noise.clamp_(min=1e-20)))).argmax(1)

    # ------------------------------------------------------------------ learning
    def learn(
        self,
        total_timesteps: int,
        callback: RolloutHooks | None = None,
        *,
        reset_num_timesteps: bool = True,
    ) -> Self:
        """Train until ``num_timesteps`` reaches ``total_timesteps`` (in whole rollouts).

        Args:
            total_timesteps: Env steps (summed over envs) to train for; with
                ``reset_num_timesteps=False``, the total to reach (a resumed run).
            callback: ``RolloutHooks`` (the trainer's curriculum, schedules …).
            reset_num_timesteps: Count from 0 (stable-baselines3's meaning).

        Raises:
            ValueError: no env, or a bad ``total_timesteps``.
        """
        if self.env is None:
            raise ValueError("this model has no env to learn in: pass one to BatchedPPO(env)")
        check_int("total_timesteps", total_timesteps, minimum=1)
        if reset_num_timesteps:
            self.num_timesteps = 0
            self.num_updates = 0
            self._obs = None
        target = total_timesteps
        rollout = self.config.n_steps * self.env.num_envs
        self._total_updates = self.num_updates + max(
            0, math.ceil((target - self.num_timesteps) / rollout)
        )
        while self.num_timesteps < target:
            if callback is not None:
                started = time.perf_counter()
                callback.on_rollout_start(self)
                self.times.hooks += time.perf_counter() - started
            self.collect_rollout(callback)
            self.update()
            if callback is not None:
                started = time.perf_counter()
                keep_going = callback.on_rollout_end(self)
                self.times.hooks += time.perf_counter() - started
                if keep_going is False:
                    break
        return self

    def set_observation(self, obs: dict[str, torch.Tensor]) -> None:
        """The env's current observations (after the caller reset it); ``collect_rollout``
        resets the env itself when none was given."""
        self._obs = {key: value.to(self.device) for key, value in obs.items()}

    def collect_rollout(self, hooks: RolloutHooks | None = None) -> None:
        """Play ``n_steps`` steps of every env into the rollout buffers (no host sync beyond
        the env's own and the hooks')."""
        env, config = self.env, self.config
        steps, n = config.n_steps, env.num_envs
        if self._obs is None:
            self.set_observation(env.reset()[0])
        buffers = self._rollout_buffers(steps, n)
        obs = self._obs
        assert obs is not None
        gamma = config.gamma
        for t in range(steps):
            started = time.perf_counter()
            with torch.no_grad():
                logits, value = self._forward(obs["image"], obs["direction"])
                actions = self._sample(logits)
                log_prob = F.log_softmax(logits, dim=1).gather(1, actions[:, None]).squeeze(1)
            buffers["image"][t] = obs["image"]
            buffers["direction"][t] = obs["direction"]
            buffers["actions"][t] = actions
            buffers["log_prob"][t] = log_prob
            buffers["values"][t] = value
            stepped = time.perf_counter()
            self.times.policy += stepped - started
            obs, reward, terminated, truncated, info = env.step(actions)
            done = terminated | truncated
            self.times.env += time.perf_counter() - stepped
            reward = reward.float()
            if "final_obs" in info:
                # Bootstrap truncated (not terminated) episodes from their last observation.
                cut = truncated & ~terminated
                if bool(cut.any()):
                    started = time.perf_counter()
                    final = info["final_obs"]
                    with torch.no_grad():
                        _, final_value = self._forward(final["image"], final["direction"])
                    reward = reward + gamma * final_value * cut
                    self.times.policy += time.perf_counter() - started
            buffers["rewards"][t] = reward
            buffers["dones"][t] = done
            self.num_timesteps += n
            if hooks is not None:
                started = time.perf_counter()
                hooks.on_step(self, info, done)
                self.times.hooks += time.perf_counter() - started
        self._obs = obs

    def _rollout_buffers(self, steps: int, n: int) -> dict[str, torch.Tensor]:
        buffers = self._buffers
        if buffers is None or buffers["actions"].shape != (steps, n):
            dev = self.device
            buffers = {
                "image": torch.zeros(steps, n, 7, 7, 3, dtype=torch.uint8, device=dev),
                "direction": torch.zeros(steps, n, dtype=torch.long, device=dev),
                "actions": torch.zeros(steps, n, dtype=torch.long, device=dev),
                "log_prob": torch.zeros(steps, n, device=dev),
                "values": torch.zeros(steps, n, device=dev),
                "rewards": torch.zeros(steps, n, device=dev),
                "dones": torch.zeros(steps, n, dtype=torch.bool, device=dev),
            }
            self._buffers = buffers
        return buffers

    def _advantages(self) -> tuple[torch.Tensor, torch.Tensor]:
        """GAE(λ) advantages and returns of the last rollout."""
        buffers, config = self._buffers, self.config
        assert buffers is not None and self._obs is not None
        with torch.no_grad():
            _, next_value = self._forward(self._obs["image"], self._obs["direction"])
        values, rewards = buffers["values"], buffers["rewards"]
        not_done = (~buffers["dones"]).float()
        advantages = torch.zeros_like(rewards)
        running = torch.zeros_like(next_value)
        for t in range(rewards.shape[0] - 1, -1, -1):
            following = next_value if t == rewards.shape[0] - 1 else values[t + 1]
            delta = rewards[t] + config.gamma * following * not_done[t] - values[t]
            running = delta + config.gamma * config.gae_lambda * not_done[t] * running
            advantages[t] = running
        return advantages, advantages + values

    def update(self) -> None:
        """``n_epochs`` passes of minibatch PPO updates over the last rollout."""
        started = time.perf_counter()
        config = self.config
        buffers = self._buffers
        assert buffers is not None
        if config.anneal_lr:
            total = max(getattr(self, "_total_updates", 1), 1)
            fraction = 1.0 - self.num_updates / total
            for group in self.optimizer.param_groups:
                group["lr"] = config.learning_rate * max(fraction, 0.0)
        advantages, returns = self._advantages()
        size = advantages.numel()
        flat = {
            "image": buffers["image"].reshape(size, 7, 7, 3),
            "direction": buffers["direction"].reshape(size),
            "actions": buffers["actions"].reshape(size),
            "log_prob": buffers["log_prob"].reshape(size),
            "values": buffers["values"].reshape(size),
            "advantages": advantages.reshape(size),
            "returns": returns.reshape(size),
        }
        minibatch = max(size // config.n_minibatches, 1)
        sums: dict[str, float] = {}
        count = 0
        stop = False
        for _epoch in range(config.n_epochs):
            order = torch.randperm(size, device=self.device, generator=self.generator)
            for begin in range(0, size - minibatch + 1, minibatch):
                index = order[begin : begin + minibatch]
                batch = {key: value.index_select(0, index) for key, value in flat.items()}
                stats = self._minibatch_step(batch)
                for key, value in stats.items():
                    sums[key] = sums.get(key, 0.0) + value
                count += 1
                if config.target_kl is not None and stats["approx_kl"] > 1.5 * config.target_kl:
                    stop = True
                    break
            if stop:
                break
        self.num_updates += 1
        metrics = {key: value / max(count, 1) for key, value in sums.items()}
        variance = float(flat["returns"].var())
        metrics["explained_variance"] = (
            float("nan")
            if variance == 0
            else 1.0 - float((flat["returns"] - flat["values"]).var()) / variance
        )
        metrics["learning_rate"] = float(self.optimizer.param_groups[0]["lr"])
        self.last_metrics = metrics
        self.times.update += time.perf_counter() - started
        self.times.rollouts += 1

    def _minibatch_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        config = self.config
        logits, value = self._forward(batch["image"], batch["direction"])
        log_probs = F.log_softmax(logits, dim=1)
        log_prob = log_probs.gather(1, batch["actions"][:, None]).squeeze(1)
        entropy = -(log_probs.exp() * log_probs).sum(1).mean()
        log_ratio = log_prob - batch["log_prob"]
        ratio = log_ratio.exp()
        advantages = batch["advantages"]
        if config.normalize_advantage and advantages.numel() > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        clip = config.clip_range
        policy_loss = torch.max(
            -advantages * ratio, -advantages * ratio.clamp(1.0 - clip, 1.0 + clip)
        ).mean()
        if config.clip_range_vf is None:
            value_loss = 0.5 * (value - batch["returns"]).pow(2).mean()
        else:
            clipped = batch["values"] + (value - batch["values"]).clamp(
                -config.clip_range_vf, config.clip_range_vf
            )
            value_loss = (
                0.5
                * torch.max(
                    (value - batch["returns"]).pow(2), (clipped - batch["returns"]).pow(2)
                ).mean()
            )
        loss = policy_loss - config.ent_coef * entropy + config.vf_coef * value_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
        self.optimizer.step()
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean()
            clip_fraction = ((ratio - 1.0).abs() > clip).float().mean()
        return {
            "policy_loss": float(policy_loss.detach()),
            "value_loss": float(value_loss.detach()),
            "entropy": float(entropy.detach()),
            "approx_kl": float(approx_kl),
            "clip_fraction": float(clip_fraction),
        }

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, Any]:
        """Everything ``load`` needs to continue exactly: weights, optimiser, generator,
        counters and hyperparameters."""
        return {
            "format": _SAVE_FORMAT,
            "kind": "teachgym.BatchedPPO",
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "num_timesteps": self.num_timesteps,
            "num_updates": self.num_updates,
            "num_actions": self.policy.num_actions,
        }

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (``torch.save``'s zip format; ``.zip`` as stable-
        baselines3's names go)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.state_dict(), path)
        return path

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], env: Any = None, device: str | torch.device | None = None
    ) -> Self:
        """The model ``save`` wrote, on ``device`` (default: the env's, else CPU), with ``env``
        to keep learning in (``None``: predict only).

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a saved ``BatchedPPO``.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no saved model at {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a zip that is not ours, a pickle, garbage
            raise ValueError(f"{path} is not a saved BatchedPPO model ({error})") from None
        if not isinstance(state, dict) or state.get("kind") != "teachgym.BatchedPPO":
            raise ValueError(f"{path} is not a saved BatchedPPO model")
        model = cls(env, PPOConfig(**state["config"]), seed=int(state["seed"]), device=device)
        model.load_state_dict(state)
        return model

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s weights, optimiser, generator and counters."""
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        try:
            self.generator.set_state(state["generator"])
        except RuntimeError:  # saved on another kind of device: reseed, reproducibly
            self.generator.manual_seed(self.seed + int(state["num_updates"]))
        self.num_timesteps = int(state["num_timesteps"])
        self.num_updates = int(state["num_updates"])
