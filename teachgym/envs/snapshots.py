"""Snapshots of MiniGrid envs: ``get_state()`` / ``set_state(state)`` for exploration agents.

Go-Explore returns to a state by restoring a snapshot, so a snapshot must bring back the layout,
the agent, what it carries, the step count and the RNG — and keep every object *identity* the env
relies on. KeyCorridor and ObstructedMaze decide success with ``self.carrying is self.obj``: if the
grid and ``self.obj`` were copied separately, the restored ball on the grid would no longer be
``self.obj`` and the task would silently become unsolvable. So the whole mutable state is
serialised in **one** ``pickle.dumps`` call, which keeps shared references shared, and each restore
is one ``pickle.loads``: an independent copy, so a snapshot can be restored any number of times.
Pickle here is an in-memory copy mechanism, faster than ``copy.deepcopy`` on these object
graphs (Go-Explore restores once per exploration); snapshots never come from a file, and
Go-Explore's saved archives hold actions only.

What is state is decided by exclusion: everything in the env's ``__dict__`` except configuration
that never changes during an episode and resources that cannot be copied (the pygame window). A
subclass that adds its own episode state (rooms, noise masks, the target object …) is covered
without listing it anywhere.

- ``GridSnapshotMixin`` gives teachgym's MiniGrid envs the two methods.
- ``SnapshotWrapper`` gives them to any MiniGrid env, e.g. ``MiniGrid-KeyCorridorS3R3-v0``, and
  also restores the time-limit counters of wrappers between it and the base env.
- ``AtariSnapshotWrapper`` does the same for ALE envs with the emulator's ``cloneState`` /
  ``restoreState``, and ``with_snapshots(env)`` picks the right one.
"""

from __future__ import annotations

import copy
import pickle
from typing import Any

import gymnasium as gym
import numpy as np

__all__ = [
    "AtariSnapshotWrapper",
    "GridSnapshotMixin",
    "SnapshotWrapper",
    "is_minigrid",
    "restore_grid_state",
    "snapshot_grid_state",
    "supports_snapshots",
    "with_snapshots",
]

# Configuration and resources: never part of a snapshot.
_NOT_STATE = frozenset(
    {
        "action_space",
        "observation_space",
        "spec",
        "metadata",
        "render_mode",
        "render_size",
        "screen_size",
        "window",
        "clock",
        "highlight",
        "tile_size",
        "agent_pov",
        "agent_view_size",
        "see_through_walls",
        "actions",
        "reward_range",
        # The teacher's channel to the *next* episode (base.ParameterizedEnv), not episode state.
        "_pending_params",
    }
)

# Per-episode attributes of Gymnasium's wrappers: TimeLimit's step count, OrderEnforcing's and
# PassiveEnvChecker's "has reset / has stepped" flags (a snapshot restored into a fresh env must
# not trip them), RecordEpisodeStatistics' running return and length.
_WRAPPER_COUNTERS = (
    "_elapsed_steps",
    "_has_reset",
    "checked_reset",
    "checked_step",
    "checked_data_reuse",
    "_previous_data",
    "episode_returns",
    "episode_lengths",
    "episode_start_time",
)


def snapshot_grid_state(env: gym.Env) -> dict[str, Any]:
    """The episode state of an unwrapped MiniGrid env, serialised in one piece."""
    state = {key: value for key, value in vars(env).items() if key not in _NOT_STATE}
    # Unpickled arrays are writeable; remember which were not (the episode's params are
    # read-only, see base.ParameterizedEnv).
    read_only = [
        key for key, value in state.items()
        if isinstance(value, np.ndarray) and not value.flags.writeable
    ]  # fmt: skip
    return {"env": pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), "read_only": read_only}


def restore_grid_state(env: gym.Env, snapshot: dict[str, Any]) -> None:
    """Restore a snapshot taken by ``snapshot_grid_state``; the snapshot stays reusable."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("env"), bytes):
        raise ValueError(
            f"expected a snapshot from get_state() (a dict with key 'env'); got {type(snapshot)}"
        )
    state = pickle.loads(snapshot["env"])
    for key in snapshot.get("read_only", ()):
        state[key].flags.writeable = False
    vars(env).update(state)


class GridSnapshotMixin:
    """``get_state`` / ``set_state`` for a MiniGrid env class (put it before ``MiniGridEnv``)."""

    def get_state(self) -> dict[str, Any]:
        """A copyable snapshot of the current episode (layout, agent, carried object, step
        count, RNG)."""
        return snapshot_grid_state(self)  # type: ignore[arg-type]

    def set_state(self, state: dict[str, Any]) -> Any:
        """Restore a snapshot from ``get_state`` and return the observation in that state."""
        restore_grid_state(self, state)  # type: ignore[arg-type]
        return self.gen_obs()  # type: ignore[attr-defined]


class SnapshotWrapper(gym.Wrapper):
    """Snapshots for any MiniGrid env, including the standard ones.

    Example::

        env = SnapshotWrapper(gymnasium.make("MiniGrid-KeyCorridorS3R3-v0"))
        env.reset(seed=0)
        state = env.get_state()
        ...
        obs = env.set_state(state)   # back where we were, same future under the same actions

    ``set_state`` returns the observation as this wrapper's ``step`` would, i.e. passed through the
    observation wrappers between it and the base env.
    """

    def get_state(self) -> dict[str, Any]:
        """Snapshot the base env and the step counters of the wrappers in between."""
        state = self._snapshot_base()
        state["wrappers"] = [
            {
                name: copy.deepcopy(vars(wrapper)[name])
                for name in _WRAPPER_COUNTERS
                if name in vars(wrapper)
            }
            for wrapper in self._chain()
        ]
        return state

    def set_state(self, state: dict[str, Any]) -> Any:
        """Restore a snapshot from ``get_state`` and return the (wrapped) observation."""
        self.restore_state(state)
        return self._observation_after_restore(self._chain())

    def restore_state(self, state: dict[str, Any]) -> None:
        """``set_state`` without building the observation (Go-Explore reads the next step's)."""
        chain = self._chain()
        counters = state.get("wrappers", []) if isinstance(state, dict) else []
        if len(counters) != len(chain):
            raise ValueError(
                f"snapshot was taken through {len(counters)} wrappers; this env has {len(chain)}"
            )
        self._restore_base(state)
        for wrapper, saved in zip(chain, counters, strict=True):
            for name, value in saved.items():
                setattr(wrapper, name, copy.deepcopy(value))

    def _snapshot_base(self) -> dict[str, Any]:
        return snapshot_grid_state(self.env.unwrapped)

    def _restore_base(self, state: dict[str, Any]) -> None:
        restore_grid_state(self.env.unwrapped, state)

    def _observation_after_restore(self, chain: list[gym.Env]) -> Any:
        obs = self.env.unwrapped.gen_obs()  # type: ignore[attr-defined]
        for wrapper in reversed(chain):  # innermost first, as step() applies them
            if isinstance(wrapper, gym.ObservationWrapper):
                obs = wrapper.observation(obs)
        return obs

    def _chain(self) -> list[gym.Env]:
        """Wrappers from ``self.env`` (outermost) down to, not including, the base env."""
        chain: list[gym.Env] = []
        env = self.env
        while isinstance(env, gym.Wrapper):
            chain.append(env)
            env = env.env
        return chain


class AtariSnapshotWrapper(SnapshotWrapper):
    """Snapshots for ALE envs (``ALE/MontezumaRevenge-v5`` …) through the emulator's own
    ``cloneState`` / ``restoreState``.

    ``set_state`` returns ``None``: restoring does not redraw the screen, so the frame (and any
    feature read from it) is only valid again after the next ``step``. With
    ``repeat_action_probability=0`` the emulator is deterministic and the snapshot needs no RNG.
    """

    def _snapshot_base(self) -> dict[str, Any]:
        ale_env = self.env.unwrapped
        return {"ale": ale_env.clone_state(include_rng=True)}  # type: ignore[attr-defined]

    def _restore_base(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or "ale" not in state:
            raise ValueError(
                f"expected a snapshot from get_state() (a dict with key 'ale'); got {type(state)}"
            )
        self.env.unwrapped.restore_state(state["ale"])  # type: ignore[attr-defined]

    def _observation_after_restore(self, chain: list[gym.Env]) -> Any:
        return None


def is_minigrid(env: gym.Env) -> bool:
    """Whether ``env`` (or the env it wraps) is a MiniGrid env."""
    try:
        from minigrid.minigrid_env import MiniGridEnv
    except ImportError:  # pragma: no cover - grid extra missing
        return False
    return isinstance(env.unwrapped, MiniGridEnv)


def _is_atari(env: gym.Env) -> bool:
    base = env.unwrapped
    return type(base).__module__.startswith("ale_py") and hasattr(base, "clone_state")


def supports_snapshots(env: gym.Env) -> bool:
    """Whether ``with_snapshots`` can give ``env`` ``get_state`` / ``set_state``."""
    return isinstance(env, SnapshotWrapper) or is_minigrid(env) or _is_atari(env)


def with_snapshots(env: gym.Env) -> SnapshotWrapper:
    """``env`` wrapped so that ``get_state()`` / ``set_state()`` work (returned as is if it
    already is a snapshot wrapper).

    Raises:
        TypeError: ``env`` is neither a MiniGrid nor an ALE env; the message says what is needed.
    """
    if isinstance(env, SnapshotWrapper):
        return env
    if is_minigrid(env):
        return SnapshotWrapper(env)
    if _is_atari(env):
        return AtariSnapshotWrapper(env)
    raise TypeError(
        f"{env.unwrapped!r} has no snapshot support: restoring states needs a MiniGrid env "
        "(minigrid.MiniGridEnv, any teachgym grid env) or an ALE env (ale_py.AtariEnv). For "
        "other deterministic envs, return by replaying actions from reset instead "
        "(GoExplore(..., return_mode='replay'))."
    )
