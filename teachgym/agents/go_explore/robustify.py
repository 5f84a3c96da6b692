"""Go-Explore phase 2: robustify demonstrations into a PPO policy with the backward algorithm.

Phase 1 finds a trajectory by restoring states; the policy must succeed *from reset* without
restoring. The backward algorithm (Salimans & Chen 2018, "Learning Montezuma's Revenge from a
Single Demonstration"; used by Ecoffet et al. 2019, section 2.2) starts PPO's episodes from a
state near the end of a demonstration, and moves the start back toward the beginning each time
the success rate over a window of episodes reaches a threshold (the 2019 paper: 10–20 %), until
episodes start from the true reset.

- ``DemoStartEnv`` is a Gymnasium wrapper: its ``reset`` puts the env in the demonstration's
  state at ``len(demo) - steps_before_end`` (minus a random jitter), by restoring the snapshot
  one step earlier and replaying the demo's action, so the observation is one ``step`` returned
  (an ALE frame is stale right after a restore, until the next step). Success is judged on the
  whole episode score, demo prefix included, against the demonstration's score.
- ``BackwardCurriculumCallback`` is an SB3 callback: it reads each finished episode's
  ``info["demo_success"]`` and moves every sub-env's start back with ``env_method``.
- Optional self-imitation (Oh et al. 2018, "Self-Imitation Learning") on the demonstrations after
  each rollout: ``-log pi(a|s) * max(R - V, 0)`` (the policy term; see
  ``_self_imitation_update``).

Phase 2 reads plain data, a ``Demonstrations`` value (env factory, start seed, trajectories,
success score, seed, device): ``GoExplore.demonstrations()`` builds one from its archive, and any
other source of trajectories can build one too. The policy is SB3's PPO (PyTorch;
``device="auto"`` uses CUDA when present).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.agents.go_explore.demonstrations import Demonstrations
from teachgym.checks import check_int, check_optional_int, check_real
from teachgym.envs.snapshots import with_snapshots

try:
    from stable_baselines3 import PPO
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback, CallbackList
    from stable_baselines3.common.vec_env import DummyVecEnv
except ImportError as error:  # pragma: no cover - train extra missing
    raise ImportError(
        'Go-Explore phase 2 needs stable-baselines3 and torch: pip install "teachgym[train]"'
    ) from error

__all__ = [
    "DEFAULT_PPO_KWARGS",
    "MINIBATCHES",
    "BackwardCurriculumCallback",
    "DemoStartEnv",
    "FixedResetEnv",
    "evaluate_from_reset",
    "load_policy",
    "robustify",
]

#: PPO settings for phase 2 unless overridden (small MLP, as for the grid benchmarks). The
#: mini-batch size is not among them: unless ``ppo_kwargs`` sets one it is a quarter of the
#: rollout (``n_steps * n_envs // MINIBATCHES``), so every rollout splits evenly whatever
#: ``n_envs`` (SB3 warns about a truncated mini-batch otherwise) and 8 envs keep 256.
DEFAULT_PPO_KWARGS: dict[str, Any] = {
    "n_steps": 128,
    "n_epochs": 4,
    "learning_rate": 2.5e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ent_coef": 0.01,
    "clip_range": 0.2,
}
#: Mini-batches per epoch when ``ppo_kwargs`` sets no ``batch_size`` (cleanrl's
#: ``num_minibatches``).
MINIBATCHES = 4


class FixedResetEnv(gym.Wrapper):
    """Every ``reset`` is ``reset(seed=env_seed)``: the one start state phase 1 explored from.

    The seed SB3 passes on the first reset seeds nothing here: Go-Explore's env is deterministic
    and its start state is part of the task.
    """

    def __init__(self, env: gym.Env, env_seed: int) -> None:
        super().__init__(env)
        self.env_seed = int(env_seed)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        return self.env.reset(seed=self.env_seed, options=options)


class DemoStartEnv(gym.Wrapper):
    """Episodes start from states along demonstrations (the backward algorithm).

    Args:
        env: A fresh env of the kind phase 1 explored (with snapshot support).
        demos: ``(actions, score)`` pairs, each a trajectory from ``reset(seed=env_seed)``.
        env_seed: The seed of the start state the demonstrations begin at.
        success_score: An episode succeeds when its score (demo prefix included) reaches this;
            ``None``: the score of the demonstration it started on.
        jitter: Episodes start up to this many steps further back than the current start
            point (uniformly), so that neighbouring states are learnt together.
        steps_before_end: Initial start point, in steps before each demo's end.
    """

    def __init__(
        self,
        env: gym.Env,
        demos: list[tuple[np.ndarray, float]],
        env_seed: int,
        success_score: float | None = None,
        jitter: int = 0,
        steps_before_end: int = 1,
    ) -> None:
        if not demos:
            raise ValueError("DemoStartEnv needs at least one demonstration")
        self._snapshot_env = with_snapshots(env)
        super().__init__(self._snapshot_env)
        self.demos = [(np.asarray(a, dtype=np.int64), float(s)) for a, s in demos]
        self.env_seed = int(env_seed)
        self.success_score = success_score
        self.jitter = int(jitter)
        self.steps_before_end = int(steps_before_end)
        self._rng = np.random.default_rng(self.env_seed)
        # Per demo: snapshots after each of its steps and cumulative score, built on first use.
        self._states: list[list[Any] | None] = [None] * len(self.demos)
        self._prefix_scores: list[np.ndarray | None] = [None] * len(self.demos)
        self._demo = 0
        self._start = 0
        self._score = 0.0

    def set_steps_before_end(self, steps: int) -> None:
        """Move the start point (called through ``VecEnv.env_method`` by the callback)."""
        self.steps_before_end = int(steps)

    def _build(self, demo: int) -> None:
        actions, _ = self.demos[demo]
        self.env.reset(seed=self.env_seed)
        states, scores, total = [], [0.0], 0.0
        for action in actions:
            _, reward, _, _, _ = self.env.step(int(action))
            total += float(reward)
            states.append(self._snapshot_env.get_state())
            scores.append(total)
        self._states[demo] = states
        self._prefix_scores[demo] = np.asarray(scores)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._demo = int(self._rng.integers(len(self.demos)))
        actions, _ = self.demos[self._demo]
        back = self.steps_before_end + int(self._rng.integers(self.jitter + 1))
        self._start = max(len(actions) - back, 0)
        if self._start == 0:
            obs, info = self.env.reset(seed=self.env_seed)
            self._score = 0.0
        else:
            if self._states[self._demo] is None:
                self._build(self._demo)
            states = self._states[self._demo]
            prefix = self._prefix_scores[self._demo]
            assert states is not None and prefix is not None
            if self._start >= 2:
                self._snapshot_env.set_state(states[self._start - 2])
            else:
                self.env.reset(seed=self.env_seed)
            # Take the demo's last step ourselves: its observation is a valid frame.
            obs, _, _, _, info = self.env.step(int(actions[self._start - 1]))
            self._score = float(prefix[self._start])
        info = dict(info)
        info["demo_start"] = self._start
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._score += float(reward)
        if terminated or truncated:
            target = self.success_score
            if target is None:
                target = self.demos[self._demo][1]
            info = dict(info)
            info["demo_start"] = self._start
            info["demo_success"] = self._score >= target
            info["episode_score"] = self._score
        return obs, reward, terminated, truncated, info


def evaluate_from_reset(
    policy: BaseAlgorithm,
    env: gym.Env,
    env_seed: int,
    success_score: float,
    episodes: int = 1,
    deterministic: bool = True,
) -> float:
    """Success rate of ``policy`` from ``reset(seed=env_seed)`` (no restoring): the fraction of
    episodes scoring above ``success_score``."""
    successes = 0
    for _ in range(episodes):
        obs, _ = env.reset(seed=env_seed)
        score, done = 0.0, False
        while not done:
            action, _ = policy.predict(obs, deterministic=deterministic)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            score += float(reward)
            done = terminated or truncated
        successes += score > success_score
    return successes / episodes


class BackwardCurriculumCallback(BaseCallback):
    """Moves the start point back when the windowed success rate reaches ``threshold``, and
    evaluates the greedy policy from the true reset once episodes start there.

    Args:
        longest_demo: Length of the longest demonstration: once the start point is that many
            steps before the end, every episode starts from reset.
        window: Episodes in the success-rate window.
        threshold: Success rate that moves the start back.
        step_back: Steps the start point moves back each time.
        eval_env: Env for evaluations from the true reset.
        env_seed: Seed of the true reset.
        success_score: Score above which an episode from reset succeeds.
        eval_interval: Steps between those evaluations.
        stop_on_success: Stop training at the first success from reset.
        self_imitation: Keyword arguments of ``_self_imitation_update`` (``None``: off).
    """

    def __init__(
        self,
        longest_demo: int,
        window: int,
        threshold: float,
        step_back: int,
        eval_env: gym.Env,
        env_seed: int,
        success_score: float,
        eval_interval: int,
        stop_on_success: bool,
        self_imitation: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.longest = int(longest_demo)
        self.window, self.threshold, self.step_back = int(window), float(threshold), int(step_back)
        self.eval_env, self.env_seed, self.success_score = eval_env, int(env_seed), success_score
        self.eval_interval, self.stop_on_success = int(eval_interval), bool(stop_on_success)
        self.self_imitation = self_imitation
        self.successes: deque[bool] = deque(maxlen=self.window)
        self.steps_before_end = min(self.step_back, self.longest)
        self.reached_reset_at: int | None = 0 if self.longest == 0 else None
        self.solved_at: int | None = None
        self.last_eval = 0
        self.evaluations: list[tuple[int, float]] = []
        self.moves: list[tuple[int, int]] = [(0, self.steps_before_end)]

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
            if done and "demo_success" in info:
                self.successes.append(bool(info["demo_success"]))
        window_full = len(self.successes) == self.window
        if (
            window_full
            and np.mean(self.successes) >= self.threshold
            and (self.steps_before_end < self.longest)
        ):
            self.steps_before_end = min(self.steps_before_end + self.step_back, self.longest)
            self.training_env.env_method("set_steps_before_end", self.steps_before_end)
            self.moves.append((self.num_timesteps, self.steps_before_end))
            self.successes.clear()
            if self.steps_before_end >= self.longest:
                self.reached_reset_at = self.num_timesteps
        self.logger.record("robustify/steps_before_end", self.steps_before_end)
        if self.successes:
            self.logger.record("robustify/success_rate", float(np.mean(self.successes)))
        at_reset = self.steps_before_end >= self.longest
        if at_reset and self.num_timesteps - self.last_eval >= self.eval_interval:
            self.last_eval = self.num_timesteps
            rate = evaluate_from_reset(self.model, self.eval_env, self.env_seed, self.success_score)
            self.evaluations.append((self.num_timesteps, rate))
            self.logger.record("robustify/success_from_reset", rate)
            if rate >= 1.0 and self.solved_at is None:
                self.solved_at = self.num_timesteps
                if self.stop_on_success:
                    return False
        return True

    def _on_rollout_start(self) -> None:
        # Before collecting, i.e. after PPO's last update: between a rollout and its update the
        # imitation step would make the buffer's log-probabilities stale for PPO's ratio.
        if self.self_imitation is not None:
            _self_imitation_update(self.model, **self.self_imitation)


class _ProgressCallback(BaseCallback):
    """Advances a teachgym progress bar by the env steps of each SB3 step."""

    def __init__(self, bar: Any) -> None:
        super().__init__()
        self.bar = bar

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps)
        return True


def _demo_transitions(
    env: gym.Env, demos: list[tuple[np.ndarray, float]], env_seed: int, gamma: float
) -> dict[str, np.ndarray]:
    """Observations, actions and discounted returns along the demonstrations."""
    observations: list[Any] = []
    actions: list[int] = []
    returns: list[float] = []
    for demo_actions, _ in demos:
        obs, _ = env.reset(seed=env_seed)
        rewards = []
        for action in demo_actions:
            observations.append(obs)
            actions.append(int(action))
            obs, reward, _, _, _ = env.step(int(action))
            rewards.append(float(reward))
        running, demo_returns = 0.0, []
        for reward in reversed(rewards):
            running = reward + gamma * running
            demo_returns.append(running)
        returns.extend(reversed(demo_returns))
    return {
        "observations": np.asarray(observations),
        "actions": np.asarray(actions, dtype=np.int64),
        "returns": np.asarray(returns, dtype=np.float32),
    }


def _self_imitation_update(
    model: Any,
    transitions: dict[str, np.ndarray],
    updates: int,
    batch_size: int,
    weight: float,
    rng: np.random.Generator,
) -> None:
    """A few self-imitation steps on demonstration transitions (Oh et al. 2018, eq. 1–3): only
    transitions whose return beats the current value estimate are imitated."""
    import torch

    policy = model.policy
    count = len(transitions["actions"])
    for _ in range(updates):
        index = rng.integers(count, size=min(batch_size, count))
        obs, _ = policy.obs_to_tensor(transitions["observations"][index])  # transposes images
        actions = torch.as_tensor(transitions["actions"][index], device=policy.device)
        returns = torch.as_tensor(transitions["returns"][index], device=policy.device)
        values, log_prob, _ = policy.evaluate_actions(obs, actions)
        advantage = (returns - values.flatten()).clamp(min=0.0)
        # Only the policy term of SIL's loss: its value term, even at the paper's weight 0.01,
        # drives the values past the demo returns within ~100 Adam steps (Adam rescales each
        # parameter's step, so the weight hardly matters), after which the clamp zeroes every
        # advantage and imitation stops. PPO's own value loss trains the values.
        loss = -weight * (log_prob * advantage.detach()).mean()
        policy.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), model.max_grad_norm)
        policy.optimizer.step()


def robustify(
    demonstrations: Demonstrations,
    total_timesteps: int,
    *,
    backward: bool = True,
    n_envs: int = 8,
    window: int = 50,
    threshold: float = 0.2,
    step_back: int | None = None,
    jitter: int | None = None,
    success_score: float | None = None,
    eval_interval: int = 10_000,
    stop_on_success: bool = True,
    self_imitation: bool = False,
    ppo_kwargs: dict[str, Any] | None = None,
    policy_kwargs: dict[str, Any] | None = None,
    callback: Any = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
) -> tuple[PPO, dict[str, Any]]:
    """Train PPO from ``demonstrations`` with the backward algorithm.

    Args:
        demonstrations: The trajectories (``GoExplore.demonstrations(count)`` after phase 1, or
            built by hand), the env factory, the start seed, the success score, PPO's seed and
            device. Only trajectories scoring above ``demonstrations.success_score`` are used;
            each episode picks one of them.
        total_timesteps: PPO env steps.
        backward: ``False`` trains plain PPO from the true reset with the same network and
            budget (the baseline that shows what the demonstrations add).
        n_envs: Parallel envs (``DummyVecEnv``).
        window: Episodes in the success-rate window.
        threshold: Success rate that moves the start back (2019: 10–20 %).
        step_back: Steps the start moves back each time; default ``max(1, len // 30)`` of the
            longest demonstration.
        jitter: Extra random steps back per episode; default ``step_back``.
        success_score: The score an episode must reach to succeed; default each demo's own score.
            From the true reset, success is a score above ``demonstrations.success_score``.
        eval_interval: Steps between evaluations from the true reset once episodes start there.
        stop_on_success: Stop when the greedy policy succeeds from the true reset.
        self_imitation: Add self-imitation updates on the demonstrations after each rollout.
        ppo_kwargs: Overrides of ``DEFAULT_PPO_KWARGS`` (SB3 ``PPO`` arguments);
            ``batch_size`` defaults to ``n_steps * n_envs // MINIBATCHES``.
        policy_kwargs: SB3 ``policy_kwargs`` (e.g. ``{"net_arch": [64, 64]}``).
        callback: Extra SB3 callback(s).
        tensorboard_log: SB3 TensorBoard folder.
        progress_bar: SB3's progress bar.

    Returns:
        The PPO model and a dict of phase-2 statistics (start-point moves, evaluations, when
        episodes first started from reset and when the policy first succeeded from it).

    Raises:
        ValueError: a bad setting, or ``backward`` with an env whose states cannot be restored.
        TypeError: the env's observations are not a ``Box`` (PPO's policies read arrays).
        RuntimeError: ``backward`` and no trajectory scores above the success score.
    """
    if not isinstance(demonstrations, Demonstrations):
        raise TypeError(
            f"robustify takes a Demonstrations value (GoExplore.demonstrations() builds one); "
            f"got {type(demonstrations).__name__}"
        )
    check_int("total_timesteps", total_timesteps, minimum=1)
    check_int("n_envs", n_envs, minimum=1)
    check_int("window", window, minimum=1)
    check_int("eval_interval", eval_interval, minimum=1)
    check_optional_int("step_back", step_back, minimum=1)
    check_optional_int("jitter", jitter, minimum=0)
    check_real("threshold", threshold, low=0.0, high=1.0, low_open=True)
    eval_env = demonstrations.make_env()
    observation_space = eval_env.observation_space
    if not isinstance(observation_space, gym.spaces.Box):
        eval_env.close()
        raise TypeError(
            f"phase 2's PPO needs a Box observation space; got {observation_space} (for MiniGrid, "
            "build the env with make_go_explore_env or wrap it in GridFlatObs)"
        )
    if backward and not demonstrations.restorable:
        eval_env.close()
        raise ValueError(
            "the backward algorithm starts episodes from restored demo states, which needs "
            "snapshot support; these demonstrations come from an env that returns by replay "
            "(restorable=False): use backward=False"
        )
    demos = list(demonstrations.successful())
    if backward and not demos:
        eval_env.close()
        raise RuntimeError(
            f"no demonstration scores above success_score={demonstrations.success_score}: "
            "explore longer before robustifying"
        )
    env_seed, seed = demonstrations.env_seed, demonstrations.seed
    longest = max((len(actions) for actions, _ in demos), default=0)
    step_back = max(1, longest // 30) if step_back is None else int(step_back)
    jitter = step_back if jitter is None else int(jitter)
    reset_success = demonstrations.success_score

    def make_train_env() -> gym.Env:
        env = demonstrations.make_env()
        if backward:
            return DemoStartEnv(env, demos, env_seed, success_score, jitter, step_back)
        return FixedResetEnv(env, env_seed)

    venv = DummyVecEnv([make_train_env] * n_envs)
    venv.seed(seed)
    kwargs = {**DEFAULT_PPO_KWARGS, **(ppo_kwargs or {})}
    kwargs.setdefault("batch_size", max(2, int(kwargs["n_steps"]) * n_envs // MINIBATCHES))
    model = _build_ppo(
        venv, kwargs, policy_kwargs, seed, demonstrations.device, tensorboard_log=tensorboard_log
    )
    sil = None
    if self_imitation:
        transitions = _demo_transitions(demonstrations.make_env(), demos, env_seed, kwargs["gamma"])
        sil = {
            "transitions": transitions,
            "updates": 4,
            "batch_size": 256,
            "weight": 1.0,
            "rng": np.random.default_rng(seed),
        }
    backward_callback = BackwardCurriculumCallback(
        longest if backward else 0,
        window,
        threshold,
        step_back,
        eval_env,
        env_seed,
        reset_success,
        eval_interval,
        stop_on_success,
        sil,
    )
    callbacks: list[Any] = [backward_callback] + ([] if callback is None else [callback])
    from teachgym._progress import progress_task

    # SB3's own progress bar needs tqdm; teachgym draws its bars with rich.
    with progress_task("Go-Explore phase 2", total_timesteps, enabled=progress_bar) as bar:
        callbacks.append(_ProgressCallback(bar))
        model.learn(total_timesteps, callback=CallbackList(callbacks))
    final = evaluate_from_reset(model, demonstrations.make_env(), env_seed, reset_success)
    stats = {
        "backward": backward,
        "num_timesteps": int(model.num_timesteps),
        "demo_lengths": [len(actions) for actions, _ in demos],
        "demo_scores": [score for _, score in demos],
        "start_moves": backward_callback.moves,
        "reached_reset_at": backward_callback.reached_reset_at,
        "solved_at": backward_callback.solved_at,
        "evaluations": backward_callback.evaluations,
        "final_success_from_reset": final,
        "ppo_kwargs": kwargs,
        "policy_kwargs": policy_kwargs,
    }
    return model, stats


def _build_ppo(
    venv: DummyVecEnv,
    ppo_kwargs: Mapping[str, Any],
    policy_kwargs: dict[str, Any] | None,
    seed: int,
    device: str,
    **extra: Any,
) -> PPO:
    """Phase 2's PPO through the project's ``build_model`` (policy choice, device, checks)."""
    from teachgym.agents.sb3 import build_model

    model = build_model(
        "ppo",
        venv,
        seed=seed,
        device=device,
        policy_kwargs=policy_kwargs,
        **ppo_kwargs,
        **extra,
    )
    assert isinstance(model, PPO)
    return model


def load_policy(
    demonstrations: Demonstrations, path: Path, robustify_stats: Mapping[str, Any]
) -> PPO:
    """Rebuild the phase-2 PPO model from its saved weights (``torch.load(weights_only=True)``,
    so loading runs no pickled code).

    Args:
        demonstrations: What the policy was robustified from (its env, seed and device).
        path: The weights ``torch.save(model.policy.state_dict())`` wrote.
        robustify_stats: The statistics ``robustify`` returned: their ``ppo_kwargs`` and
            ``policy_kwargs`` rebuild the same network.
    """
    import torch

    venv = DummyVecEnv([demonstrations.make_env])
    ppo_kwargs = dict(robustify_stats.get("ppo_kwargs", DEFAULT_PPO_KWARGS))
    # The network is what the weights need; the rollout here is one env's, so the mini-batch
    # must divide it (SB3 warns otherwise). It matters only if the loaded policy trains again.
    rollout = int(ppo_kwargs.get("n_steps", DEFAULT_PPO_KWARGS["n_steps"]))
    ppo_kwargs["batch_size"] = math.gcd(rollout, int(ppo_kwargs.get("batch_size", rollout)))
    model = _build_ppo(
        venv,
        ppo_kwargs,
        robustify_stats.get("policy_kwargs"),
        demonstrations.seed,
        demonstrations.device,
    )
    state = torch.load(path, map_location=model.device, weights_only=True)
    model.policy.load_state_dict(state)
    return model
