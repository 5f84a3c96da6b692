"""``BatchedSB3VecEnv``: a batched grid env as a stable-baselines3 ``VecEnv``.

Any SB3 algorithm trains on hundreds of batched envs through it, with SB3's conventions:
``reset()`` returns the observations only (the reset infos go to ``reset_infos``), ``step_async``
/ ``step_wait``, ``infos`` a list of dicts, and on the step that ends an episode (SB3 resets it
inside that step, as the batched env's ``same_step`` autoreset does) ``infos[i]`` holds the
finished episode's ``terminal_observation``, ``TimeLimit.truncated`` (truncated and not
terminated), its ``params`` and an ``episode`` record ``{"r", "l", "t"}`` as SB3's ``Monitor``
writes it, while ``reset_infos[i]["params"]`` names the new episode's params.

Observations are flattened exactly as ``teachgym.envs.wrappers.GridFlatObs`` flattens a MiniGrid
observation: per view cell (``[column, row]`` order) the one-hot object (11), colour (6) and door
state (3) codes, then the one-hot direction (4): 984 float32 values in [0, 1]. The one-hots are
built on the env's device with one ``scatter_``.

The curriculum: ``env_method("set_next_params", p, indices=[i])`` fills env ``i``'s pending slot
(``teachgym.teachers.CurriculumVecEnv`` works on this VecEnv unchanged); ``get_attr`` reads
``param_space``, ``return_range``, ``params`` and ``pending_params``; ``set_attr`` writes
``pending_params``.

Needs the ``train`` extra (stable-baselines3): ``pip install "teachgym[train]"``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from teachgym.envs.batched.base import VIEW_SIZE, BatchedGridEnv
from teachgym.envs.batched.numpy_vector import get_env_rows, set_pending_rows

try:
    from stable_baselines3.common.vec_env import VecEnv
    from stable_baselines3.common.vec_env.base_vec_env import (
        VecEnvIndices,
        VecEnvObs,
        VecEnvStepReturn,
    )
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "BatchedSB3VecEnv needs stable-baselines3, in the train extra: "
        'pip install "teachgym[train]"'
    ) from error

__all__ = ["BatchedSB3VecEnv", "flatten_grid_obs"]

# len(OBJECT_TO_IDX), len(COLOR_TO_IDX), len(STATE_TO_IDX) of minigrid.core.constants, copied so
# that MiniGrid is not imported: GridFlatObs's one-hot widths.
NUM_OBJECTS, NUM_COLOURS, NUM_STATES = 11, 6, 3
CELL_SIZE = NUM_OBJECTS + NUM_COLOURS + NUM_STATES
FLAT_SIZE = VIEW_SIZE * VIEW_SIZE * CELL_SIZE + 4


def flatten_grid_obs(image: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """``GridFlatObs``'s vector for a batch: ``(n, 7, 7, 3)`` codes and ``(n,)`` directions →
    ``(n, 984)`` float32 on the same device (one ``scatter_`` of 148 ones per row)."""
    n, cells = image.shape[0], VIEW_SIZE * VIEW_SIZE
    device = image.device
    # Position of each code's one in the flat vector: cell * 20 + channel offset + code.
    base = torch.arange(cells, device=device)[:, None] * CELL_SIZE
    base = base + torch.tensor([0, NUM_OBJECTS, NUM_OBJECTS + NUM_COLOURS], device=device)
    where = (image.reshape(n, cells, 3).long() + base).view(n, cells * 3)
    where = torch.cat([where, cells * CELL_SIZE + direction.long().view(n, 1)], dim=1)
    flat = torch.zeros(n, FLAT_SIZE, device=device)
    return flat.scatter_(1, where, 1.0)


class BatchedSB3VecEnv(VecEnv):
    """A ``BatchedGridEnv`` as a stable-baselines3 ``VecEnv`` (see the module docstring).

    Args:
        env: The batched env; its ``num_envs`` is the VecEnv's. A GPU env works: observations
            are flattened on the device and copied to host memory once per step.

    Example:
        >>> from stable_baselines3 import PPO
        >>> from teachgym.envs.batched import BatchedGridNavigation
        >>> venv = BatchedSB3VecEnv(BatchedGridNavigation(256, seed=0))
        >>> PPO("MlpPolicy", venv, n_steps=8).learn(100_000)
    """

    def __init__(self, env: BatchedGridEnv) -> None:
        if not isinstance(env, BatchedGridEnv):
            raise ValueError(f"env must be a BatchedGridEnv; got {type(env).__name__}")
        observation_space = spaces.Box(0.0, 1.0, shape=(FLAT_SIZE,), dtype=np.float32)
        action_space = spaces.Discrete(env.num_actions)
        self.env = env  # before VecEnv.__init__, which reads get_attr("render_mode")
        super().__init__(env.num_envs, observation_space, action_space)
        self._actions: np.ndarray | None = None
        self._start = time.time()

    # ------------------------------------------------------------------ stepping
    def reset(self) -> VecEnvObs:
        """Reset every env; seeds from ``seed()`` and params from ``set_options`` apply once.

        The batched env has one generator, so ``seed(s)`` reseeds it with ``s`` (the per-env
        seeds SB3 derives, ``s + i``, are not used). ``set_options([{"params": p_i}, …])`` starts
        env ``i`` with ``p_i`` and leaves its pending slot for the next autoreset.
        """
        seed = self._seeds[0]
        chosen = [options.get("params") for options in self._options]
        unknown = [options for options in self._options if set(options) - {"params"}]
        if unknown:
            raise ValueError(f"reset options may hold only 'params'; got {unknown[0]!r}")
        with_params = np.array([p is not None for p in chosen])
        if with_params.any():
            # Rows of the envs without params are placeholders (masked out), within bounds.
            low = self.env.param_space.low
            rows = [np.asarray(p, dtype=np.float64) if p is not None else low for p in chosen]
            params = self.env._check_params(rows, self.num_envs)  # checked before any reset
            self.env.reset(seed=seed, options={"reset_mask": ~with_params})
            obs, info = self.env.reset(options={"params": params, "reset_mask": with_params})
        else:
            obs, info = self.env.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        params = info["params"].cpu().numpy()
        self.reset_infos = [{"params": params[i]} for i in range(self.num_envs)]
        return flatten_grid_obs(obs["image"], obs["direction"]).cpu().numpy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("BatchedSB3VecEnv: step_async must be called before step_wait")
        actions = np.asarray(self._actions).reshape(self.num_envs)
        self._actions = None
        obs, reward, terminated, truncated, info = self.env.step(actions)
        flat = flatten_grid_obs(obs["image"], obs["direction"]).cpu().numpy()
        rewards = reward.cpu().numpy()
        terminated_np = terminated.cpu().numpy()
        truncated_np = truncated.cpu().numpy()
        dones = terminated_np | truncated_np
        params = info["params"].cpu().numpy()
        infos: list[dict[str, Any]] = [{"params": params[i]} for i in range(self.num_envs)]
        ended = np.flatnonzero(dones).tolist()
        if ended:
            final_obs = info["final_obs"]
            final_flat = flatten_grid_obs(final_obs["image"], final_obs["direction"]).cpu().numpy()
            final_params = info["final_params"].cpu().numpy()
            final_return = info["final_return"].cpu().numpy()
            final_length = info["final_length"].cpu().numpy()
            elapsed = round(time.time() - self._start, 6)
            for i in ended:
                self.reset_infos[i] = {"params": params[i]}
                infos[i] = {
                    "params": final_params[i],
                    "terminal_observation": final_flat[i],
                    "TimeLimit.truncated": bool(truncated_np[i] and not terminated_np[i]),
                    "episode": {
                        "r": float(final_return[i]),
                        "l": int(final_length[i]),
                        "t": elapsed,
                    },
                }
        return flat, rewards, dones, infos

    def close(self) -> None:
        self.env.close()

    # ------------------------------------------------------------------ attributes and methods
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Per env: ``params`` and ``pending_params`` rows, else the batched env's attribute.

        Raises:
            AttributeError: the batched env has no such attribute.
        """
        return get_env_rows(self.env, attr_name, list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """``set_attr("pending_params", p, indices)``: the same row ``p`` (or ``None``, an empty
        slot) for each env of ``indices``, as SB3 gives every env the same value.

        Raises:
            ValueError: another attribute, or a bad row; nothing is changed.
        """
        if attr_name != "pending_params":
            raise ValueError(
                f"BatchedSB3VecEnv.set_attr supports only 'pending_params'; got {attr_name!r}"
            )
        targets = list(self._get_indices(indices))
        set_pending_rows(self.env, targets, [value] * len(targets))

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """``env_method("set_next_params", params, indices=...)``: the teachgym env contract's
        pending slot, filled with ``params`` for each env of ``indices``.

        Raises:
            AttributeError: another method (the sub-envs are rows of tensors, not objects).
            ValueError: bad params; no slot is changed.
        """
        if method_name != "set_next_params":
            raise AttributeError(
                f"BatchedSB3VecEnv.env_method supports only 'set_next_params'; got {method_name!r}"
            )
        if len(method_args) + len(method_kwargs) != 1:
            raise ValueError(
                "set_next_params takes one argument, the params; got "
                f"{method_args!r} {method_kwargs!r}"
            )
        params = method_args[0] if method_args else next(iter(method_kwargs.values()))
        targets = list(self._get_indices(indices))
        set_pending_rows(self.env, targets, [params] * len(targets))
        return [None] * len(targets)

    def has_attr(self, attr_name: str) -> bool:
        """Whether ``get_attr(attr_name)`` (or ``env_method`` for ``set_next_params``) works."""
        return attr_name == "set_next_params" or hasattr(self.env, attr_name)

    def env_is_wrapped(self, wrapper_class: type[Any], indices: VecEnvIndices = None) -> list[bool]:
        """Always false: the sub-envs are rows of tensors, with no Gymnasium wrappers."""
        return [False] * len(list(self._get_indices(indices)))

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs
