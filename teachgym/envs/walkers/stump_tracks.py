"""``teachgym/StumpTracks-v0``: a Box2D walker over a track of stumps (Portelas et al. 2019)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from gymnasium.utils import EzPickle

from teachgym.envs.base import ParameterizedEnv
from teachgym.envs.walkers.base import ParametricWalker
from teachgym.envs.walkers.geometry import (
    FINISH_X,
    FIRST_OBSTACLE_X,
    TERRAIN_HEIGHT,
    TERRAIN_STEP,
)
from teachgym.spaces import ParamSpace

__all__ = ["MIN_STUMP_HEIGHT", "STUMP_HEIGHT_STD", "StumpTracks"]

STUMP_HEIGHT_STD = 0.1  # terrain steps; spread of individual stump heights around the mean
MIN_STUMP_HEIGHT = 0.05  # terrain steps; floor of a drawn stump height
STUMP_WIDTH = TERRAIN_STEP  # world units


def _checked_range(name: str, value: Sequence[float]) -> tuple[float, float]:
    """``(low, high)`` as floats with 0 ≤ low < high, both finite, else ``ValueError``."""
    try:
        if isinstance(value, str | bytes):  # "03" would otherwise unpack into (0.0, 3.0)
            raise TypeError
        low, high = (float(bound) for bound in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high):
        raise ValueError(f"{name} must satisfy 0 <= low < high, both finite; got {value!r}")
    return low, high


class StumpTracks(ParameterizedEnv, ParametricWalker):
    """A walker crosses a flat track dotted with stumps whose height and spacing are parameters.

    ## Description

    The parametric BipedalWalker of Portelas et al. 2019 ("Teacher algorithms for curriculum
    learning of Deep RL in continuously parameterized environments", CoRL 2019), built on
    Gymnasium's ``BipedalWalker`` (v3 physics, lidar, reward and renderer). The track is the base
    env's length (200 terrain steps) with flat ground instead of random grass, the usual start
    pad (20 steps) and then a stump of width one terrain step every ``obstacle_spacing`` world
    units until the finish line. Units: a *terrain step* is 14 px ≈ 0.467 world units (Box2D
    metres); the default walker's legs are 68 px ≈ 4.9 steps long (two 34 px segments), the short
    walker's 2.4 steps, the quadruped's 7.3 steps.

    ## Parameters

    ==================  ===========  ==========================================================
    name                default      meaning and effect on difficulty
                        range
    ==================  ===========  ==========================================================
    stump_height        [0, 3]       Mean stump height, terrain steps. Each stump's height is
                                     drawn from N(mean, 0.1) with the env's ``np_random`` and
                                     floored at 0.05 steps. Higher is harder: the walker must
                                     lift its legs over the stump and then climb down. **A mean
                                     of exactly 0 means no stumps at all**: the track is
                                     perfectly flat (any mean > 0 gives stumps of ≥ 0.05 steps).
                                     Stumps above ~2.4 steps are taller than the short
                                     walker's hips (34 px off the ground, legs straight): it
                                     can neither step onto them nor carry its hull over them,
                                     so the top of the range is unlearnable for it
                                     (``benchmarks/bench_walker_structure.py`` shows where
                                     scripted gaits stop). The default walker's hips reach
                                     4.9 steps, the quadruped's 7.3. Widen the range with
                                     ``stump_height_range=(0, 4)`` or ``(0, 5)`` to add
                                     unlearnable tasks, as the paper does to test teachers.
    obstacle_spacing    [0, 6]       Flat ground between two stumps, world units. Smaller is
                                     harder: more stumps (13 at 6, 171 at 0) and less room to
                                     recover between them. At 0 the stumps abut and form a
                                     plateau with uneven tops.
    ==================  ===========  ==========================================================

    Params come from ``reset(options={"params": ...})``, ``set_next_params`` or a uniform draw
    (see ``teachgym.envs.base``); ``info["params"]`` reports them. Partial dicts fill the
    missing parameters with the centre of their range.

    ## Action space

    ``Box(-1, 1, (4,), float32)`` for the bipeds, ``(8,)`` for the quadruped: per leg pair, the
    hip and knee motor commands of the first then the second leg (rear pair first). As v3, the
    sign sets the motor direction at rated speed and the magnitude the available torque.

    ## Observation space

    ``Box((24,), float32)`` for the bipeds, exactly v3's layout: hull angle, angular velocity,
    horizontal and vertical speed (4); per leg: hip angle, hip speed, knee angle + 1, knee
    speed, lower-leg ground contact (2 × 5); 10 lidar fractions (closest hit of ground or stump
    along rays fanning 1.5 rad forward from straight down). The quadruped's is ``(34,)``: the
    same with four 5-value leg blocks (rear pair, then front pair), i.e. hull ``[0:4]``, legs
    ``[4:24]``, lidar ``[24:34]``. Values are clipped into the declared bounds (a safeguard;
    random-action episodes have not been seen to reach them).

    ## Reward

    v3's: 130 · Δx / 30 for forward progress of the hull (about 300 over the whole track),
    −5 · Δ|hull angle| (keep the hull level), minus a torque cost of 0.00035 · 80 · Σ|action|
    per step for the bipeds (0.00035 / 8 · 300 · Σ|action| for the quadruped's stronger, more
    numerous motors). Falling (hull touches the ground or a stump, or walking off the left
    edge) gives −100.
    ``return_range = (-150, 350)`` is what teachers normalise to [0, 1] (as the paper);
    ``mastery_threshold = 230`` (an episode counts as mastered above it).

    ## Starting state

    The walker stands at the middle of the start pad (x ≈ 4.7), hull level, legs slightly bent,
    pushed by a random horizontal force of up to 5 N; the first stump is at the end of the start
    pad (x ≈ 9.3).

    ## Episode end

    *Terminated* when the hull touches the ground or a stump, when the hull leaves the track on
    the left, or when it passes the finish line (x ≈ 88.7, 190 terrain steps). *Truncated* after
    2,000 steps by the ``TimeLimit`` that ``gymnasium.make`` adds (registration's
    ``max_episode_steps``); the env itself never truncates.

    ## Arguments

    ``gymnasium.make("teachgym/StumpTracks-v0", walker="short",
    stump_height_range=(0.0, 3.0), obstacle_spacing_range=(0.0, 6.0), render_mode=None)``

    Args:
        walker: ``"default"`` (Gymnasium's biped), ``"short"`` (legs half as long) or
            ``"quadruped"`` (two leg pairs, 300 torque motors, a hull 1.5x as long).
        stump_height_range: Bounds of ``stump_height`` (terrain steps), ``0 <= low < high``.
        obstacle_spacing_range: Bounds of ``obstacle_spacing`` (world units), ``0 <= low < high``.
        render_mode: ``None``, ``"human"`` or ``"rgb_array"`` (400 × 600 × 3 uint8 frames).

    Raises:
        ValueError: An unknown walker or render mode, or a malformed range.

    ## Version history

    - v0: Initial version (Portelas et al. 2019's Stump Tracks on Gymnasium's BipedalWalker-v3).
    """

    return_range: ClassVar[tuple[float, float]] = (-150.0, 350.0)
    mastery_threshold: ClassVar[float] = 230.0

    def __init__(
        self,
        walker: str = "default",
        stump_height_range: Sequence[float] = (0.0, 3.0),
        obstacle_spacing_range: Sequence[float] = (0.0, 6.0),
        render_mode: str | None = None,
    ) -> None:
        heights = _checked_range("stump_height_range", stump_height_range)
        spacings = _checked_range("obstacle_spacing_range", obstacle_spacing_range)
        self.param_space = ParamSpace(
            ["stump_height", "obstacle_spacing"],
            [heights[0], spacings[0]],
            [heights[1], spacings[1]],
            defaults=[(heights[0] + heights[1]) / 2, (spacings[0] + spacings[1]) / 2],
        )
        super().__init__(walker=walker, render_mode=render_mode)
        # Pickling rebuilds the env from these (BipedalWalker is EzPickle); they replace the
        # base env's (render_mode, hardcore).
        EzPickle.__init__(
            self,
            walker=walker,
            stump_height_range=heights,
            obstacle_spacing_range=spacings,
            render_mode=render_mode,
        )
        self._stump_height = 0.0
        self._obstacle_spacing = spacings[1]

    def _apply_params(self, params: np.ndarray) -> None:
        self._stump_height = float(params[0])
        self._obstacle_spacing = float(params[1])

    def _obstacle_polygons(self) -> list[list[tuple[float, float]]]:
        if self._stump_height == 0.0:
            return []  # documented: a mean of exactly 0 is a flat track, no 0.05-step stumps
        pitch = STUMP_WIDTH + self._obstacle_spacing
        count = math.ceil((FINISH_X - FIRST_OBSTACLE_X) / pitch)
        heights = self.np_random.normal(self._stump_height, STUMP_HEIGHT_STD, size=count)
        heights = np.maximum(heights, MIN_STUMP_HEIGHT) * TERRAIN_STEP
        polygons = []
        for k, height in enumerate(heights.tolist()):
            left = FIRST_OBSTACLE_X + k * pitch
            right = left + STUMP_WIDTH
            top = TERRAIN_HEIGHT + height
            polygons.append(
                [(left, TERRAIN_HEIGHT), (right, TERRAIN_HEIGHT), (right, top), (left, top)]
            )
        return polygons
