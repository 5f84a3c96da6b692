"""Geometry of the walker tracks: units, landmarks, and obstacle polygons Box2D accepts.

Units follow Gymnasium's ``BipedalWalker``: world units are Box2D metres (1 unit = ``SCALE`` = 30
rendered pixels) and a *terrain step* is ``TERRAIN_STEP`` = 14 px ≈ 0.467 units. The track is the
base env's: ``TERRAIN_LENGTH`` steps of ground at height ``TERRAIN_HEIGHT``, a start pad of
``TERRAIN_STARTPAD`` steps, then obstacles up to the finish line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gymnasium.envs.box2d.bipedal_walker import (
    SCALE,
    TERRAIN_GRASS,
    TERRAIN_HEIGHT,
    TERRAIN_LENGTH,
    TERRAIN_STARTPAD,
    TERRAIN_STEP,
)

__all__ = [
    "FINISH_X",
    "FIRST_OBSTACLE_X",
    "SCALE",
    "TERRAIN_HEIGHT",
    "TERRAIN_LENGTH",
    "TERRAIN_STARTPAD",
    "TERRAIN_STEP",
    "convex_obstacle",
]

# Where obstacles start (the end of the base env's start pad) and where an episode ends: the base
# env terminates once the hull passes this x, so obstacles beyond it would never be reached.
FIRST_OBSTACLE_X = TERRAIN_STARTPAD * TERRAIN_STEP
FINISH_X = (TERRAIN_LENGTH - TERRAIN_GRASS) * TERRAIN_STEP

_UNIT_SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
_GRID = 1e-6  # world units
_MIN_TURN_SINE = 1e-6


def _cross(o: tuple[Any, Any], a: tuple[Any, Any], b: tuple[Any, Any]) -> Any:
    """z of (a - o) × (b - o): positive for a left turn; exact on integers."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _convex_hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Counter-clockwise hull, without collinear or nearly collinear vertices.

    Andrew's monotone chain in exact integer arithmetic on a 1e-6 grid: in floating point,
    points whose x differ by less than rounding (e.g. subnormals) sort out of geometric order
    and the chain drops true vertices. The grid is far below Box2D's float32 resolution.
    """
    grid = sorted({(round(x / _GRID), round(y / _GRID)) for x, y in points})
    if len(grid) <= 2:
        return [(x * _GRID, y * _GRID) for x, y in grid]

    def chain(ordered: list[tuple[int, int]]) -> list[tuple[int, int]]:
        kept: list[tuple[int, int]] = []
        for point in ordered:
            while len(kept) >= 2 and _cross(kept[-2], kept[-1], point) <= 0:
                kept.pop()
            kept.append(point)
        return kept[:-1]

    hull = [(x * _GRID, y * _GRID) for x, y in chain(grid) + chain(grid[::-1])]
    # A vertex that bends its edges by less than float32 noise is dropped (the edges merge),
    # so Box2D never sees an almost straight angle.
    index = 0
    while len(hull) > 3 and index < len(hull):
        before, vertex, after = hull[index - 1], hull[index], hull[(index + 1) % len(hull)]
        if _cross(before, vertex, after) <= (
            _MIN_TURN_SINE * math.dist(before, vertex) * math.dist(vertex, after)
        ):
            del hull[index]
            index = 0
        else:
            index += 1
    return hull


def _area(polygon: Sequence[tuple[float, float]]) -> float:
    return 0.5 * sum(
        a[0] * b[1] - b[0] * a[1] for a, b in zip(polygon, [*polygon[1:], polygon[0]], strict=True)
    )


def _diameter(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """The two points furthest apart (one point if there is only one)."""
    if len(points) == 1:
        return (points[0],)
    return max(
        ((a, b) for i, a in enumerate(points) for b in points[i + 1 :]),
        key=lambda pair: math.dist(*pair),
    )


def convex_obstacle(
    points: Sequence[tuple[float, float]], min_edge: float, min_thickness: float
) -> list[tuple[float, float]]:
    """A polygon Box2D accepts, made from arbitrary points: their convex hull, made safe.

    Box2D asserts (and a failed assertion can end the process) on polygons that are not convex,
    have more than 8 vertices, a near-zero edge or a near-zero area. So:

    1. points closer than ``min_edge`` to an earlier point are merged into it (every hull edge is
       then at least ``min_edge`` long);
    2. the convex hull is taken (at most as many vertices as points);
    3. a hull that is thinner than ``min_thickness`` (2 · area / diameter) — a point, a segment or
       a sliver — is replaced by its longest chord swept by a ``min_thickness`` square up and
       right: a box or hexagon of width ≥ ``min_thickness`` and at most 6 vertices.

    Args:
        points: At least one (x, y) point, world units.
        min_edge: Smallest distance between two vertices (world units, > 0).
        min_thickness: Smallest width of the result (world units, > 0).

    Returns:
        Counter-clockwise vertices, 3 to 8 of them (at most ``max(len(points), 6)``).
    """
    welded: list[tuple[float, float]] = []
    for x, y in points:
        point = (float(x), float(y))
        if all(math.dist(point, kept) >= min_edge for kept in welded):
            welded.append(point)
    hull = _convex_hull(welded)
    if len(hull) >= 3 and 2 * _area(hull) / math.dist(*_diameter(hull)) >= min_thickness:
        return hull
    side = min_thickness
    swept = [(x + side * dx, y + side * dy) for x, y in _diameter(hull) for dx, dy in _UNIT_SQUARE]
    return _convex_hull(swept)
