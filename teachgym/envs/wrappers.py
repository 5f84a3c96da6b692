"""Observation wrappers that make any MiniGrid env learner-ready for stable-baselines3.

MiniGrid observations are a ``Dict`` holding a text ``mission``, which SB3 policies cannot read.
Each wrapper below turns them into one array that SB3's ``check_env`` accepts, for teachgym's grid
families and stock MiniGrid envs alike:

=====================  ============================  ===========  ===========================
wrapper                observation                   policy       SB3 ``check_env``
=====================  ============================  ===========  ===========================
``GridFlatObs``        float32 ``(49 * 20 + 4,)``    MlpPolicy    clean
``GridImageObs``       uint8 ``(7, 7, 3)``           MlpPolicy    one warning: CnnPolicy needs
                                                                  36 × 36 (MlpPolicy does not)
``GridRGBObs``         uint8 ``(56, 56, 3)``         CnnPolicy    clean
=====================  ============================  ===========  ===========================

Shapes are for MiniGrid's default 7 × 7 view and ``tile_size=8``. Every wrapper reads the
agent's partial view only, as MiniGrid's agent sees it; the mission text is dropped (constant in
teachgym's families). Use them as SB3's ``wrapper_class``::

    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from teachgym.envs.wrappers import GridFlatObs

    venv = make_vec_env("teachgym/GridNavigation-v0", n_envs=4, wrapper_class=GridFlatObs)
    PPO("MlpPolicy", venv).learn(100_000)

or build a single env with ``teachgym.envs.make_env("MiniGrid-DoorKey-8x8-v0", obs="rgb")``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

__all__ = ["OBS_WRAPPERS", "GridFlatObs", "GridImageObs", "GridRGBObs"]

_INSTALL_HINT = 'MiniGrid is not installed: pip install "teachgym[grid]"'

try:
    from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX
    from minigrid.wrappers import ImgObsWrapper, RGBImgPartialObsWrapper
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(_INSTALL_HINT) from error


def _check_minigrid_obs(env: gym.Env) -> spaces.Box:
    """The ``image`` space of a MiniGrid-style ``Dict`` observation, or a clear error."""
    space = env.observation_space
    if isinstance(space, spaces.Dict) and "direction" in space.spaces:
        image = space.spaces.get("image")
        if isinstance(image, spaces.Box):
            return image
    raise TypeError(
        "expected a MiniGrid env whose observations are a Dict with 'image' and "
        f"'direction'; got {space}"
    )


class GridImageObs(ImgObsWrapper):
    """The agent's view as MiniGrid encodes it: ``uint8 (view, view, 3)``, one
    (object, colour, state) index triple per cell, direction dropped.

    The smallest change to a MiniGrid env that SB3 can train on. Use ``MlpPolicy`` (SB3
    flattens the box): SB3 reads a 3-D ``uint8`` box as an image, and ``check_env`` warns that
    its default ``CnnPolicy`` needs at least 36 × 36 pixels. For a CNN use ``GridRGBObs``.

    The view is egocentric, so the agent's absolute direction is not part of this observation;
    ``GridFlatObs`` includes it.

    Args:
        env: A MiniGrid env (teachgym's grid families or a stock ``MiniGrid-*`` env).
    """

    def __init__(self, env: gym.Env) -> None:
        _check_minigrid_obs(env)
        super().__init__(env)


class GridRGBObs(RGBImgPartialObsWrapper):
    """The agent's view rendered as pixels: ``uint8 (view · tile_size, view · tile_size, 3)``.

    Ready for SB3's ``CnnPolicy``: with the default 7 × 7 view and ``tile_size=8`` it is
    56 × 56 × 3, above the 36 × 36 its NatureCNN needs, and ``check_env`` passes cleanly.
    Rendering tiles costs more per step than the symbolic wrappers (MiniGrid caches tiles).

    Args:
        env: A MiniGrid env (teachgym's grid families or a stock ``MiniGrid-*`` env).
        tile_size: Pixels per cell; at least 6 for the default view to reach 36 × 36.
    """

    def __init__(self, env: gym.Env, tile_size: int = 8) -> None:
        _check_minigrid_obs(env)
        super().__init__(env, tile_size=tile_size)
        self.observation_space = self.observation_space["image"]  # type: ignore[index]

    def observation(self, obs: dict[str, Any]) -> np.ndarray:
        base: Any = self.unwrapped
        return base.get_frame(tile_size=self.tile_size, agent_pov=True)


class GridFlatObs(gym.ObservationWrapper):
    """The agent's view and direction as one ``float32`` vector of one-hot codes.

    Each of the view's cells becomes ``len(OBJECT_TO_IDX) + len(COLOR_TO_IDX) +
    len(STATE_TO_IDX)`` = 11 + 6 + 3 = 20 entries (one-hot object type, colour and door state),
    in row-major view order; four more entries one-hot encode the agent's direction. With the
    default 7 × 7 view that is 984 values in [0, 1], for ``MlpPolicy``.

    One-hot rather than raw indices, because an index's magnitude means nothing (a key is not
    "more" than a wall). MiniGrid's ``OneHotPartialObsWrapper`` computes the same codes cell by
    cell in Python and keeps the ``Dict``; this wrapper uses one table lookup per channel, which
    keeps the wrapper's cost small next to the env step, and adds the direction.

    Args:
        env: A MiniGrid env (teachgym's grid families or a stock ``MiniGrid-*`` env).

    Raises:
        ValueError: at ``observation`` time, if a cell holds an index outside MiniGrid's
            tables (an env with custom object types needs its own encoding).
    """

    def __init__(self, env: gym.Env) -> None:
        image_space = _check_minigrid_obs(env)
        super().__init__(env)
        self._view_shape = image_space.shape[:2]
        # One identity table per channel: row i is the one-hot code of index i.
        self._tables = tuple(
            np.eye(len(table), dtype=np.float32)
            for table in (OBJECT_TO_IDX, COLOR_TO_IDX, STATE_TO_IDX)
        )
        self._directions = np.eye(4, dtype=np.float32)
        cell_size = sum(len(table) for table in self._tables)
        size = int(np.prod(self._view_shape)) * cell_size + 4
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)

    def observation(self, obs: dict[str, Any]) -> np.ndarray:
        image = obs["image"]
        try:
            codes = [table[image[..., channel]] for channel, table in enumerate(self._tables)]
            direction = self._directions[obs["direction"]]
        except IndexError:
            raise ValueError(
                "a cell of the MiniGrid view holds an index outside minigrid.core.constants "
                f"(object, colour, state maxima {[len(t) - 1 for t in self._tables]}); "
                f"got per-channel maxima {image.reshape(-1, 3).max(axis=0).tolist()}"
            ) from None
        return np.concatenate([np.concatenate(codes, axis=-1).ravel(), direction])


#: The wrappers behind ``teachgym.envs.make_env(obs=...)``, by name.
OBS_WRAPPERS: dict[str, type[gym.ObservationWrapper]] = {
    "flat": GridFlatObs,
    "image": GridImageObs,
    "rgb": GridRGBObs,
}
