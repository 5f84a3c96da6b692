"""``BatchedNumpyVectorEnv``: the NumPy face of a batched grid env, a Gymnasium ``VectorEnv``.

The batched env (``base.BatchedGridEnv``) takes and returns torch tensors on its device; this
face returns NumPy arrays, as Gymnasium's own vector envs do, for Gymnasium users and for
evaluation. Autoreset is the batched env's ``same_step`` mode, with Gymnasium's ``SyncVectorEnv``
info layout for it: on a step where some episodes end, ``info["final_obs"]`` is an object array
holding each finished episode's last observation (``None`` elsewhere), ``info["final_info"]``
the finished steps' infos (``{"params": (n, dim), "_params": mask}``), each with its ``_`` mask;
``final_params``, ``final_return`` and ``final_length`` (``(n, …)`` arrays, meaningful where
``_final_obs``) give each finished episode's params, undiscounted return and length.

The curriculum reaches the per-env pending slots through the calls Gymnasium and teachgym's
curriculum wrappers already use: ``set_attr("pending_params", [p_0, …, p_{n-1}])`` (a row per
env; ``None`` empties that env's slot) and ``get_attr("param_space")``. ``info["params"]``
(with an all-true ``_params`` mask) holds every env's current params on each reset and step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv

from teachgym.envs.batched.base import BatchedGridEnv

__all__ = ["BatchedNumpyVectorEnv"]

#: Attributes that ``get_attr`` reads per env (one row each) rather than replicating.
_PER_ENV_ATTRS = ("params", "pending_params")


def get_env_rows(env: BatchedGridEnv, name: str, indices: Sequence[int]) -> list[Any]:
    """``get_attr`` of a batched env for envs ``indices``: their ``params`` rows, their
    ``pending_params`` rows (``None`` where the slot is empty), or the env-wide attribute
    ``name`` (``param_space``, ``return_range`` …) once per index.

    Raises:
        AttributeError: the batched env has no attribute ``name``.
    """
    if name == "params":
        rows = env.params.cpu().numpy()
        return [rows[i].copy() for i in indices]
    if name == "pending_params":
        rows = env.pending_params.cpu().numpy()
        pending = env.has_pending.cpu().numpy()
        return [rows[i].copy() if pending[i] else None for i in indices]
    value = getattr(env, name)
    return [value for _ in indices]


def set_pending_rows(env: BatchedGridEnv, indices: Sequence[int], values: Sequence[Any]) -> None:
    """Fill the pending slots of envs ``indices`` with ``values`` (``None`` empties a slot).

    Raises:
        ValueError: a row of the wrong shape or out of bounds; no slot is changed.
    """
    if len(values) != len(indices):
        raise ValueError(
            f"pending_params needs one value per env ({len(indices)}); got {len(values)}"
        )
    filled = [(i, v) for i, v in zip(indices, values, strict=True) if v is not None]
    emptied = [i for i, v in zip(indices, values, strict=True) if v is None]
    # Check everything before changing anything.
    empty_index = env._check_indices(np.asarray(emptied, dtype=np.int64))
    if filled:
        fill_index = env._check_indices(np.asarray([i for i, _ in filled], dtype=np.int64))
        fill_params = env._check_params([np.asarray(v) for _, v in filled], len(filled))
        env.set_next_params(fill_index, fill_params)
    env.has_pending.index_fill_(0, empty_index, False)


def _numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.cpu().numpy()
    if isinstance(value, dict):
        return {key: _numpy(item) for key, item in value.items()}
    return value


def numpy_info(info: dict[str, Any], num_envs: int) -> dict[str, Any]:
    """A batched env's info with NumPy arrays, ``final_obs`` as Gymnasium's per-env object
    array (``None`` where no episode ended) and an all-true ``_params`` mask."""
    out: dict[str, Any] = {}
    for key, value in info.items():
        if key == "final_obs":
            done = info["_final_obs"].cpu().numpy()
            batch = _numpy(value)
            rows = np.full(num_envs, None, dtype=object)
            for i in np.flatnonzero(done).tolist():
                rows[i] = {name: array[i] for name, array in batch.items()}
            out[key] = rows
        else:
            out[key] = _numpy(value)
    out["_params"] = np.ones(num_envs, dtype=np.bool_)
    return out


class BatchedNumpyVectorEnv(VectorEnv):  # type: ignore[type-arg]
    """A batched grid env as a Gymnasium ``VectorEnv`` of NumPy arrays (autoreset ``same_step``).

    Spaces are the batched env's (``Dict(image, direction)`` per env, ``Discrete(7)`` actions).
    ``step`` takes a ``(num_envs,)`` integer array and returns ``(obs, rewards, terminations,
    truncations, info)`` with ``obs`` a dict of ``(num_envs, …)`` arrays and ``rewards`` float64
    (the batched env's float32 rewards, widened as Gymnasium's vector envs return float64).

    Args:
        env: The batched env to wrap (any device; arrays are copied to host memory).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.SAME_STEP}  # noqa: RUF012

    def __init__(self, env: BatchedGridEnv) -> None:
        if not isinstance(env, BatchedGridEnv):
            raise ValueError(f"env must be a BatchedGridEnv; got {type(env).__name__}")
        self.env = env
        self.num_envs = env.num_envs
        self.single_observation_space = env.single_observation_space
        self.observation_space = env.observation_space
        self.single_action_space = env.single_action_space
        self.action_space = env.action_space
        self.param_space = env.param_space
        self.return_range = env.return_range
        self.mastery_threshold = env.mastery_threshold

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``BatchedGridEnv.reset`` (options ``params``, ``reset_mask``), as NumPy arrays."""
        obs, info = self.env.reset(seed=seed, options=options)
        return _numpy(obs), numpy_info(info, self.num_envs)

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env; see the module docstring for the info of ended episodes."""
        obs, reward, terminated, truncated, info = self.env.step(actions)
        return (
            _numpy(obs),
            reward.cpu().numpy().astype(np.float64),
            terminated.cpu().numpy(),
            truncated.cpu().numpy(),
            numpy_info(info, self.num_envs),
        )

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Each env's ``name`` (Gymnasium's ``SyncVectorEnv.get_attr``): see ``get_env_rows``."""
        return tuple(get_env_rows(self.env, name, range(self.num_envs)))

    def set_attr(self, name: str, values: list[Any] | tuple[Any, ...] | Any) -> None:
        """``set_attr("pending_params", values)``: a row per env, or one value for all.

        Raises:
            ValueError: another attribute (the batched env's state is not per-env objects), or
                bad rows; no slot is changed.
        """
        if name != "pending_params":
            raise ValueError(
                f"BatchedNumpyVectorEnv.set_attr supports only 'pending_params'; got {name!r}"
            )
        if not isinstance(values, list | tuple):
            values = [values] * self.num_envs
        set_pending_rows(self.env, range(self.num_envs), values)

    def close_extras(self, **kwargs: Any) -> None:
        self.env.close()
