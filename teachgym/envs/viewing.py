"""Seeing the envs: record an episode to a GIF or show it in a window, with random or given
actions or a trained policy, or drive a grid env with the keyboard.

The command line wraps these (``teachgym render`` and ``teachgym play``); both work on any
teachgym env id and, for ``render``, on any Gymnasium env that supports ``rgb_array``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.envs.factory import make_env
from teachgym.spaces import ParamsLike

__all__ = ["GridPlayer", "record_episode", "save_gif", "show_episode"]


def _reset_options(env: gym.Env, params: Any) -> dict[str, Any] | None:
    if params is None or (isinstance(params, Mapping) and not params):
        return None
    if not hasattr(env.unwrapped, "param_space"):
        raise ValueError(
            f"{env.spec.id if env.spec else env} is not a parameterized env; "
            "--param only applies to teachgym envs"
        )
    env.unwrapped.param_space.to_vector(params)  # type: ignore[attr-defined]  # fail early
    return {"params": dict(params) if isinstance(params, Mapping) else params}


def record_episode(
    env_id: str,
    params: ParamsLike | None = None,
    *,
    actions: Sequence[Any] | None = None,
    policy: Callable[[Any], Any] | None = None,
    obs: str = "none",
    max_steps: int = 500,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    imports: Sequence[str] = (),
) -> tuple[list[np.ndarray], float]:
    """Run one episode with ``render_mode="rgb_array"`` and return its frames and return.

    Args:
        env_id: Any registered Gymnasium id, e.g. ``"teachgym/StumpTracks-v0"``.
        params: A full or partial ``{name: value}`` dict (or a vector) for a teachgym env;
            ``None`` lets the env draw its params.
        actions: The actions to play, in order; the episode stops when they run out.
        policy: Chooses each action from the observation instead, e.g. a trained model's
            ``lambda o: model.predict(o, deterministic=True)[0]``. With neither ``actions`` nor
            ``policy``, actions are sampled from the action space, seeded by ``seed``.
        obs: The observation wrapper the policy was trained with (``make_env``'s ``obs``);
            the frames are the env's own rendering whatever it is.
        max_steps: Stop after this many steps even if the episode has not ended.
        seed: Seeds the env's reset and the random actions.
        env_kwargs: Constructor options passed to ``gymnasium.make``.
        imports: Modules to import first (a user's env registrations).

    Returns:
        The frames (the first is the reset state) and the episode's return.

    Raises:
        ValueError: bad params, an action outside the action space, or both ``actions`` and
            ``policy``.
    """
    episode = _play(
        env_id, params, actions=actions, policy=policy, obs=obs, max_steps=max_steps,
        seed=seed, env_kwargs=env_kwargs, imports=imports, render_mode="rgb_array",
    )  # fmt: skip
    return episode.frames, episode.total_return


def show_episode(
    env_id: str,
    params: ParamsLike | None = None,
    *,
    actions: Sequence[Any] | None = None,
    policy: Callable[[Any], Any] | None = None,
    obs: str = "none",
    max_steps: int = 500,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    imports: Sequence[str] = (),
) -> tuple[int, float]:
    """``record_episode`` in a window (``render_mode="human"``, at the env's frame rate).

    Returns:
        The steps played and the episode's return.
    """
    episode = _play(
        env_id, params, actions=actions, policy=policy, obs=obs, max_steps=max_steps,
        seed=seed, env_kwargs=env_kwargs, imports=imports, render_mode="human",
    )  # fmt: skip
    return episode.steps, episode.total_return


@dataclass
class _Episode:
    frames: list[np.ndarray]
    total_return: float
    steps: int


def _play(
    env_id: str,
    params: ParamsLike | None,
    *,
    actions: Sequence[Any] | None,
    policy: Callable[[Any], Any] | None,
    obs: str,
    max_steps: int,
    seed: int,
    env_kwargs: Mapping[str, Any] | None,
    imports: Sequence[str],
    render_mode: str,
) -> _Episode:
    if max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer; got {max_steps}")
    if actions is not None and policy is not None:
        raise ValueError("give actions or a policy, not both")
    kwargs = {**(env_kwargs or {}), "render_mode": render_mode}
    env = make_env(env_id, obs=obs, env_kwargs=kwargs, imports=imports)
    recording = render_mode == "rgb_array"
    try:
        observation, _ = env.reset(seed=seed, options=_reset_options(env, params))
        env.action_space.seed(seed)
        frames = [np.asarray(env.render())] if recording else []
        total = 0.0
        plan = list(actions) if actions is not None else None
        steps = 0
        for step in range(max_steps):
            if plan is not None:
                if step >= len(plan):
                    break
                action = _checked_action(env.action_space, plan[step], step)
            elif policy is not None:
                action = _checked_action(env.action_space, policy(observation), step)
            else:
                action = env.action_space.sample()
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            if recording:
                frames.append(np.asarray(env.render()))
            if terminated or truncated:
                break
        return _Episode(frames, total, steps)
    finally:
        env.close()


def _checked_action(action_space: gym.Space[Any], action: Any, step: int) -> Any:
    value = np.asarray(action, dtype=action_space.dtype)
    if not action_space.contains(value):
        raise ValueError(f"action {step} = {action!r} is not in the action space {action_space}")
    return value.item() if isinstance(action_space, gym.spaces.Discrete) else value


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: float = 30.0) -> Path:
    """Write RGB frames as an animated GIF (Pillow, via matplotlib's dependency)."""
    from PIL import Image

    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"output file must end in .gif; got {str(path)!r}")
    if not frames:
        raise ValueError("no frames to write")
    if fps <= 0:
        raise ValueError(f"fps must be positive; got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    images[0].save(
        path,
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
    )
    return path


class GridPlayer:
    """Drive a MiniGrid-based env with the keyboard in a pygame window.

    Keys (MiniGrid's): arrows turn/move forward, space toggles, tab/page-up picks up,
    shift/page-down drops, enter is "done", backspace restarts, escape quits. Every episode uses
    the same ``params`` (when given), so a person can study one point of the parameter space.
    """

    def __init__(
        self,
        env_id: str,
        params: Mapping[str, float] | None = None,
        *,
        seed: int | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        from minigrid.manual_control import ManualControl
        from minigrid.minigrid_env import MiniGridEnv

        self.env = make_env(
            env_id, obs="none", env_kwargs={**(env_kwargs or {}), "render_mode": "human"}
        )
        if not isinstance(self.env.unwrapped, MiniGridEnv):
            self.env.close()
            raise ValueError(
                f"teachgym play drives grid envs only; {env_id} is not a MiniGrid env "
                "(use `teachgym render` to record any env)"
            )
        self.options = _reset_options(self.env, params)
        self.seed = seed
        self.episodes = 0
        player = self

        class _Control(ManualControl):
            # MiniGrid's loop resets without options and never leaves after escape; keep the
            # params on every reset and stop cleanly.
            def reset(self, seed: int | None = None) -> None:
                player.reset()

            def key_handler(self, event: Any) -> None:
                if event.key == "escape":
                    self.closed = True
                    player.env.close()
                    return
                super().key_handler(event)

        self.control = _Control(self.env, seed=seed)

    def reset(self) -> None:
        """Start a new episode with the player's params and show it."""
        self.env.reset(seed=self.seed, options=self.options)
        self.episodes += 1
        self.env.render()

    def press(self, key: str) -> None:
        """Handle one key by its pygame name (e.g. ``"up"``, ``"space"``, ``"escape"``)."""

        class _Event:
            def __init__(self, name: str) -> None:
                self.key = name

        self.control.key_handler(_Event(key))

    @property
    def closed(self) -> bool:
        return bool(self.control.closed)

    def start(self) -> None:
        """Open the window and run the event loop until escape or the window is closed."""
        import pygame

        self.reset()
        while not self.control.closed:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    self.press("escape")
                    break
                if event.type == pygame.KEYDOWN:
                    self.press(pygame.key.name(int(event.key)))
                    if self.control.closed:
                        break
