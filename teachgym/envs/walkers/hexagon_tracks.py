"""``teachgym/HexagonTracks-v0``: a Box2D walker over deformed hexagons (Portelas et al. 2019)."""

from __future__ import annotations

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
    convex_obstacle,
)
from teachgym.spaces import ParamSpace

__all__ = ["HEXAGON_PITCH", "HexagonTracks", "hexagon_polygon"]

# The undeformed hexagon, terrain steps, relative to its anchor on the ground: one step wide,
# half a step tall; vertices 0 and 5 sit on the ground (the paper's code's default hexagon).
BASE_HEXAGON = np.array(
    [(-0.5, 0.0), (-0.5, 0.25), (-0.25, 0.5), (0.25, 0.5), (0.5, 0.25), (0.5, 0.0)]
)
OFFSET_STD = 0.1  # terrain steps; per-obstacle noise on every offset, as the paper's code
OFFSET_RANGE = (0.0, 4.0)  # terrain steps
# Distance between consecutive hexagon anchors, world units: the paper's code advances 1 unit
# past the anchor and then lays 8 units of flat ground (its default obstacle spacing).
HEXAGON_PITCH = 9.0
# Geometry guards (world units; 1 px = 1/30): Box2D's own merge distance is 0.0025.
MIN_VERTEX_GAP = 0.05
MIN_THICKNESS = 0.05

PARAM_NAMES = tuple(f"vertex_{i}_{axis}" for i in range(6) for axis in ("dx", "dy"))


def hexagon_polygon(offsets: np.ndarray, anchor_x: float) -> list[tuple[float, float]]:
    """The Box2D polygon of one obstacle.

    Args:
        offsets: ``(6, 2)`` vertex offsets in terrain steps (params plus noise), vertex order of
            ``BASE_HEXAGON``.
        anchor_x: World x of the undeformed hexagon's centre on the ground.

    Returns:
        Convex, counter-clockwise world-coordinate vertices (3 to 6 of them, at least
        ``MIN_VERTEX_GAP`` apart, at least ``MIN_THICKNESS`` thick), see ``convex_obstacle``.
    """
    vertices = BASE_HEXAGON + offsets
    vertices[[0, -1], 1] = 0.0  # the first and last vertex stay on the ground
    vertices[1:-1, 1] = np.maximum(vertices[1:-1, 1], 0.0)  # noise never sinks a vertex
    world_x = anchor_x + vertices[:, 0] * TERRAIN_STEP
    world_y = TERRAIN_HEIGHT + vertices[:, 1] * TERRAIN_STEP
    points = list(zip(world_x.tolist(), world_y.tolist(), strict=True))
    return convex_obstacle(points, MIN_VERTEX_GAP, MIN_THICKNESS)


class HexagonTracks(ParameterizedEnv, ParametricWalker):
    """A walker crosses a flat track of hexagonal obstacles whose shape is 12 parameters.

    ## Description

    The Hexagon Tracks env of Portelas et al. 2019 ("Teacher algorithms for curriculum learning
    of Deep RL in continuously parameterized environments", CoRL 2019): the track of
    ``StumpTracks`` (Gymnasium's ``BipedalWalker`` v3 physics, lidar, reward and renderer, flat
    ground, usual start pad) with an obstacle every 9 world units from the end of the start pad
    to the finish line (9 obstacles). Each obstacle is a hexagon one terrain step wide and half a
    step tall whose six vertices are moved by the 12 parameters (six 2-D offsets), plus
    N(0, 0.1) noise per obstacle and coordinate drawn with the env's ``np_random``; a terrain
    step is 14 px ≈ 0.467 world units. It is a harder, higher-dimensional space than Stump
    Tracks, with irrelevant dimensions, meant to test teachers' scalability.

    Box2D only accepts convex polygons of at most 8 vertices without near-zero edges or area,
    and asserts otherwise. The obstacle is therefore the **convex hull** of the six moved
    vertices (concave deformations are filled in), vertices closer than 0.05 units are merged,
    and a hull thinner than 0.05 units (possible where offsets make vertices collinear or
    coincide) becomes its longest chord thickened to 0.05 units. Every point of [0, 4]^12 gives
    a valid obstacle (``tests/envs/test_walkers.py`` checks all 4,096 corners).

    ## Parameters

    =================================  ======  ===============================================
    name                               range   meaning and effect on difficulty
    =================================  ======  ===============================================
    vertex_0_dx, vertex_5_dx           [0, 4]  Move the two ground vertices (left, right)
                                               right, terrain steps: widen or narrow the base.
    vertex_0_dy, vertex_5_dy           [0, 4]  **No effect**: the first and last vertex stay
                                               on the ground. Kept so the space is the paper's
                                               12-D one (a teacher has to discover that they
                                               do not matter).
    vertex_1_dx … vertex_4_dx          [0, 4]  Move the four upper vertices right, steps:
                                               lengthen and skew the obstacle.
    vertex_1_dy … vertex_4_dy          [0, 4]  Raise the four upper vertices, steps. The
                                               obstacle's height is 0.25–0.5 steps plus these,
                                               up to 4.5 steps (2.1 units): the main source of
                                               difficulty. Obstacles above ~2.4 steps are
                                               taller than the short walker's hips.
    =================================  ======  ===============================================

    All 12 params default to 2 (the centre) when a partial dict leaves them out. At 0 the
    obstacle is the undeformed half-step hexagon, the easiest setting.

    ## Action space

    ``Box(-1, 1, (8,), float32)`` for the quadruped (the default walker): hip and knee commands
    of the rear pair's two legs, then the front pair's; ``(4,)`` for the bipeds. As v3, the sign
    sets the motor direction at rated speed and the magnitude the available torque.

    ## Observation space

    ``Box((34,), float32)`` for the quadruped: hull angle, angular velocity, horizontal and
    vertical speed ``[0:4]``; per leg, rear pair first: hip angle, hip speed, knee angle + 1,
    knee speed, lower-leg ground contact ``[4:24]``; 10 lidar fractions ``[24:34]``. The bipeds
    have v3's ``(24,)`` layout (two leg blocks). Values are clipped into the declared bounds.

    ## Reward

    As ``StumpTracks``: v3's forward-progress shaping (about 300 over the track), −5 · Δ|hull
    angle|, a torque cost (0.00035 / 8 · 300 · Σ|action| for the quadruped, 0.00035 · 80 ·
    Σ|action| for the bipeds) and −100 on a fall. ``return_range = (-150, 350)`` and
    ``mastery_threshold = 230``, as Stump Tracks: the reward and track length are the same, so
    the paper normalises both envs alike.

    ## Starting state

    The walker stands at the middle of the start pad (x ≈ 4.7), hull level, pushed by a random
    horizontal force of up to 5 N; the first obstacle's anchor is at x ≈ 9.3.

    ## Episode end

    *Terminated* when the hull touches the ground or an obstacle, leaves the track on the left,
    or passes the finish line (x ≈ 88.7). *Truncated* after 2,000 steps by the ``TimeLimit``
    that ``gymnasium.make`` adds; the env itself never truncates.

    ## Arguments

    ``gymnasium.make("teachgym/HexagonTracks-v0", walker="quadruped", render_mode=None)``

    Args:
        walker: ``"quadruped"`` (default, as the paper), ``"default"`` or ``"short"``.
        render_mode: ``None``, ``"human"`` or ``"rgb_array"`` (400 × 600 × 3 uint8 frames).

    Raises:
        ValueError: An unknown walker or render mode.

    ## Version history

    - v0: Initial version (Portelas et al. 2019's Hexagon Tracks on Gymnasium's
      BipedalWalker-v3).
    """

    return_range: ClassVar[tuple[float, float]] = (-150.0, 350.0)
    mastery_threshold: ClassVar[float] = 230.0

    def __init__(self, walker: str = "quadruped", render_mode: str | None = None) -> None:
        low, high = OFFSET_RANGE
        self.param_space = ParamSpace(
            PARAM_NAMES,
            np.full(len(PARAM_NAMES), low),
            np.full(len(PARAM_NAMES), high),
            defaults=np.full(len(PARAM_NAMES), (low + high) / 2),
        )
        super().__init__(walker=walker, render_mode=render_mode)
        EzPickle.__init__(self, walker=walker, render_mode=render_mode)  # pickled by these
        self._offsets = np.zeros((6, 2))
        self._anchors = np.arange(FIRST_OBSTACLE_X, FINISH_X, HEXAGON_PITCH)

    def _apply_params(self, params: np.ndarray) -> None:
        self._offsets = params.reshape(6, 2)

    def _obstacle_polygons(self) -> list[list[tuple[float, float]]]:
        noisy = self._offsets + self.np_random.normal(
            0.0, OFFSET_STD, size=(len(self._anchors), 6, 2)
        )
        return [
            hexagon_polygon(offsets, anchor)
            for offsets, anchor in zip(noisy, self._anchors.tolist(), strict=True)
        ]
