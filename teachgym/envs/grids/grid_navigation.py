"""``GridNavigation``: reach the goal across a room of walls and lava.

The family spans a trivial corner (a 5 × 5 room, goal next to the agent), a region that is
learnable with effort (a 15 × 15 room, goal at the far corner, the path threaded through walls
and lava) and a documented impossible region (``lava_density >= 0.5``: the goal is ringed by lava).
See the class docstring for the card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Goal, Lava, Wall, WorldObj

from teachgym.envs.grids.base import ParameterizedGridEnv
from teachgym.spaces import ParamSpace

__all__ = ["GridNavigation", "NavigationLayout"]

#: Smallest and largest room side, outer walls included.
MIN_ROOM_SIZE = 5
MAX_ROOM_SIZE = 15
#: From this lava density on, no safe path is kept and the goal is ringed by lava.
SEALED_LAVA_DENSITY = 0.5
#: Step budget per grid cell of the room, as MiniGrid's Empty, LavaGap and Crossing use.
STEPS_PER_CELL = 4

Cell = tuple[int, int]


def _mission() -> str:
    # Module-level so that the env pickles (a lambda in MissionSpace would not).
    return "avoid the lava and get to the green goal square"


@dataclass(frozen=True)
class NavigationLayout:
    """What the params of one ``GridNavigation`` episode turned into.

    Attributes:
        room_size: Side of the room in cells, outer walls included.
        goal_distance: Length in cells of the shortest lava-free path from agent to goal when
            ``sealed`` is false (the Manhattan distance between them).
        num_walls: Wall cells placed inside the room.
        num_lava: Lava cells placed inside the room, the ring around a sealed goal included.
        sealed: Whether the goal is ringed by lava (no safe path exists).
        max_steps: The episode's step limit.
    """

    room_size: int
    goal_distance: int
    num_walls: int
    num_lava: int
    sealed: bool
    max_steps: int


class GridNavigation(ParameterizedGridEnv):
    """Navigate a square room strewn with walls and lava to a green goal square.

    ## Description

    The agent starts in a square room and must reach the green goal square. Four continuous
    parameters set the room's size, how far the goal lies, and how many wall and lava cells fill
    the room. Positions, the start direction and which cells become walls or lava are drawn with
    the env's seeded generator, so an episode is a function of (seed, params).

    Below ``lava_density = 0.5`` the generator keeps one shortest path open — a random
    staircase from agent to goal on which it places neither walls nor lava — so the goal is
    always reachable and ``goal_distance`` is the exact length of the shortest safe path. From
    ``lava_density = 0.5`` on, no path is kept and the four neighbours of the goal are lava:
    the episode cannot be solved. This gives a teacher a trivial corner, a large region that is
    learnable with effort, and an impossible slab it should learn to avoid.

    The grid is always allocated at 15 × 15 so the observation and the rendered frame keep one
    shape; a smaller room sits in the top-left corner and the rest is wall.

    ## Parameters

    | name          | range    | harder when larger                  | impossible           |
    |---------------|----------|-------------------------------------|----------------------|
    | room_size     | [5, 15]  | more room to explore                | never                |
    | goal_distance | [0, 1]   | longer path, goal out of view       | never                |
    | wall_density  | [0, 0.5] | view blocked, dead ends             | never                |
    | lava_density  | [0, 0.6] | more cells where a misstep ends it  | from 0.5 on (sealed) |

    How each maps to the layout (``n`` is the room side, ``A`` the number of interior cells that
    are neither the agent's, the goal's, on the kept path nor in the lava ring of a sealed goal):

    - ``room_size``: ``n`` = nearest integer (halves round up); an ``n`` × ``n`` room, outer
      walls included, in the top-left of the 15 × 15 grid. ``max_steps = 4 n²``.
    - ``goal_distance``: ``D`` = nearest integer to ``goal_distance · 2(n − 3)``, at least 1
      (at least 2 when sealed). ``D`` is the Manhattan distance from agent to goal and, while a
      path is kept, the exact length of the shortest safe path; 1 puts the goal at the far
      corner of the room. ``D ≤ 24`` is far inside the step budget, so distance alone never
      makes an episode impossible.
    - ``wall_density``: nearest integer to ``wall_density · A`` wall cells, off the kept path.
    - ``lava_density``: nearest integer to ``lava_density · A`` lava cells, off the kept path
      (fewer when walls already fill the room). Below 0.5 a shortest path stays open; from 0.5 on
      none is kept and the goal's four neighbours are lava, so the goal cannot be reached.

    Defaults (for partial dicts): ``room_size=9, goal_distance=0.5, wall_density=0.1,
    lava_density=0.1``. ``self.layout`` (a ``NavigationLayout``) records what the params became.

    ## Action Space

    ``Discrete(7)``, MiniGrid's actions; only 0 (turn left), 1 (turn right) and 2 (forward) do
    anything here.

    ## Observation Space

    MiniGrid's ``Dict``: ``image`` — ``Box(0, 255, (7, 7, 3), uint8)``, the agent's 7 × 7 view
    encoded per cell as (object, colour, state) indices from ``minigrid.core.constants``; walls
    block the view. ``direction`` — ``Discrete(4)``. ``mission`` — the fixed text
    "avoid the lava and get to the green goal square". Use ``teachgym.envs.wrappers`` for
    stable-baselines3.

    ## Rewards

    ``1 - 0.9 * step_count / max_steps`` when the agent steps onto the goal, otherwise 0. The
    return range is [0, 1]; an episode counts as mastered when the return is above 0.

    ## Starting State

    The agent stands on a random interior cell from which a cell at distance ``D`` exists,
    facing a random direction; the goal is a random cell at exactly distance ``D``.

    ## Episode End

    Terminated when the agent steps onto the goal (success) or into lava (failure). Truncated
    at ``max_steps = 4 n²`` steps (MiniGrid's own time limit; no ``TimeLimit`` wrapper), which a
    learner should bootstrap through.

    ## Version History

    - v0: first version.
    """

    def __init__(self, **minigrid_kwargs: Any) -> None:
        """
        Args:
            **minigrid_kwargs: Passed to ``MiniGridEnv`` (``render_mode``, ``agent_view_size``,
                ``see_through_walls``, ``tile_size`` …).
        """
        param_space = ParamSpace.from_bounds(
            {
                "room_size": (float(MIN_ROOM_SIZE), float(MAX_ROOM_SIZE)),
                "goal_distance": (0.0, 1.0),
                "wall_density": (0.0, 0.5),
                "lava_density": (0.0, 0.6),
            },
            defaults={
                "room_size": 9.0,
                "goal_distance": 0.5,
                "wall_density": 0.1,
                "lava_density": 0.1,
            },
        )
        self.layout: NavigationLayout | None = None
        super().__init__(
            param_space=param_space,
            mission_space=MissionSpace(mission_func=_mission),
            width=MAX_ROOM_SIZE,
            height=MAX_ROOM_SIZE,
            max_steps=STEPS_PER_CELL * MAX_ROOM_SIZE**2,
            **minigrid_kwargs,
        )

    def _gen_grid(self, width: int, height: int) -> None:
        params = self.params_dict
        size = _nearest_int(params["room_size"])
        sealed = params["lava_density"] >= SEALED_LAVA_DENSITY
        # Walls and lava carry no state, so one instance of each serves the whole layout:
        # constructing a fresh one per cell was most of the reset time (and of snapshot copies).
        wall, lava = Wall(), Lava()
        cells: list[WorldObj | None] = [wall] * (width * height)
        interior = [(x, y) for y in range(1, size - 1) for x in range(1, size - 1)]
        for x, y in interior:
            cells[y * width + x] = None

        # The farthest two interior cells are 2(n - 3) apart; every distance up to that is
        # reachable from a corner, so a valid (agent, goal) pair always exists.
        longest = 2 * (size - 3)
        distance = min(max(_nearest_int(params["goal_distance"] * longest), 1), longest)
        if sealed:
            # A lava ring can only separate the goal from an agent that is not next to it.
            distance = max(distance, 2)
        farthest = [max(i - 1, size - 2 - i) for i in range(size)]  # per axis
        agent = self._rand_elem(
            [(x, y) for x, y in interior if farthest[x] + farthest[y] >= distance]
        )
        goal = self._rand_elem(_ring(agent, distance, low=1, high=size - 2))

        lava_ring: list[Cell] = []
        kept: set[Cell] = set()
        if sealed:
            lava_ring = _ring(goal, 1, low=1, high=size - 2)
        else:
            kept = set(self._staircase(agent, goal))
        excluded = kept | set(lava_ring) | {agent, goal}
        free = [cell for cell in interior if cell not in excluded]

        num_walls = _nearest_int(params["wall_density"] * len(free))
        num_lava = min(_nearest_int(params["lava_density"] * len(free)), len(free) - num_walls)
        # One draw for both kinds keeps the layout a function of (seed, params) only.
        chosen = self.np_random.choice(len(free), size=num_walls + num_lava, replace=False)
        for order, index in enumerate(chosen):
            x, y = free[index]
            cells[y * width + x] = wall if order < num_walls else lava
        for x, y in lava_ring:
            cells[y * width + x] = lava
        self.grid = Grid(width, height)
        self.grid.grid = cells

        self.put_obj(Goal(), *goal)
        self.goal_pos = goal
        self.agent_pos = agent
        self.agent_dir = int(self._rand_int(0, 4))
        self.mission = _mission()
        self.max_steps = STEPS_PER_CELL * size * size
        self.layout = NavigationLayout(
            room_size=size,
            goal_distance=distance,
            num_walls=num_walls,
            num_lava=num_lava + len(lava_ring),
            sealed=sealed,
            max_steps=self.max_steps,
        )

    def _staircase(self, start: Cell, end: Cell) -> list[Cell]:
        """A random shortest 4-connected path from ``start`` to ``end`` (both excluded)."""
        dx, dy = end[0] - start[0], end[1] - start[1]
        step_x = (1 if dx > 0 else -1, 0)
        step_y = (0, 1 if dy > 0 else -1)
        moves = [step_x] * abs(dx) + [step_y] * abs(dy)
        order = self.np_random.permutation(len(moves))
        path = []
        x, y = start
        for index in order[:-1]:
            x, y = x + moves[index][0], y + moves[index][1]
            path.append((x, y))
        return path


def _nearest_int(value: float) -> int:
    # Halves round up (Python's round() rounds them to even, which would make bins uneven).
    return math.floor(value + 0.5)


def _ring(centre: Cell, distance: int, low: int, high: int) -> list[Cell]:
    """Cells at Manhattan ``distance`` from ``centre`` with both coordinates in [low, high]."""
    cx, cy = centre
    ring = []
    for dx in range(-distance, distance + 1):
        rest = distance - abs(dx)
        for dy in sorted({-rest, rest}):
            x, y = cx + dx, cy + dy
            if low <= x <= high and low <= y <= high:
                ring.append((x, y))
    return ring
