"""``GridKeyDoor``: a chain of rooms behind locked doors, with keys and distractors.

The family spans a trivial corner (one small room with the goal), a region that is learnable with
effort (four locked doors whose keys all wait in the start room, to be carried forward one at a
time past distractors) and a documented impossible region (``key_distance >= 1`` with at least
one locked door: no keys are placed). See the class docstring for the card.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from minigrid.core.constants import COLOR_NAMES
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Ball, Box, Door, Goal, Key, Wall, WorldObj

from teachgym.envs.grids.base import ParameterizedGridEnv
from teachgym.spaces import ParamSpace

__all__ = ["GridKeyDoor", "KeyDoorLayout"]

#: Locked doors (rooms after the start room) at most.
MAX_LOCKED_ROOMS = 4
#: Distractor objects at most.
MAX_DISTRACTORS = 6
#: Interior side of every room; rooms share their walls, so one room adds ROOM_INNER + 1 columns.
ROOM_INNER = 5
ROOM_PITCH = ROOM_INNER + 1
#: From this key distance on, the keys would lie before the start room: none are placed.
MISSING_KEY_DISTANCE = 1.0
#: Step budget per grid cell of the used rooms, as MiniGrid's DoorKey uses.
STEPS_PER_CELL = 10
#: Objects a room holds at most; the fallback pattern below fits this many without blocking.
ROOM_CAPACITY = 6
#: Room-relative cells (x, y) of the fallback pattern: rows 0, 2, 4 and columns 0, 4 stay free,
#: so the free cells stay connected, every object touches one, and no door cell is blocked.
_SAFE_SLOTS = tuple((x, y) for y in (1, 3) for x in (1, 2, 3))
_DISTRACTOR_KINDS = ("ball", "box", "key")

Cell = tuple[int, int]


def _mission() -> str:
    # Module-level so that the env pickles (a lambda in MissionSpace would not).
    return "unlock the doors in turn and get to the green goal square"


@dataclass(frozen=True)
class KeyDoorLayout:
    """What the params of one ``GridKeyDoor`` episode turned into.

    Attributes:
        num_locked_rooms: Locked doors, one before each room after the start room.
        door_cells: Grid cell of each door, in the order the agent meets them.
        door_colors: Colour of each door (and of its key).
        key_rooms: Room index (0 = start room) of each door's key; empty when keys are missing.
        keys_missing: Whether the keys were left out (``key_distance >= 1``).
        num_distractors: Distractor objects placed.
        max_steps: The episode's step limit.
    """

    num_locked_rooms: int
    door_cells: tuple[Cell, ...]
    door_colors: tuple[str, ...]
    key_rooms: tuple[int, ...]
    keys_missing: bool
    num_distractors: int
    max_steps: int


class GridKeyDoor(ParameterizedGridEnv):
    """Unlock a chain of rooms, door by door, to reach a green goal square in the last room.

    ## Description

    Rooms of 5 × 5 cells stand in a row, left to right. The agent starts in the leftmost room;
    the goal is in the rightmost one. Each room after the first is behind a locked door of its
    own colour, opened by toggling it while carrying the key of that colour. Keys lie in rooms
    before their doors, possibly several rooms back, so the agent may have to fetch a key from
    the start room, carry it through doors it already opened, and come back for the next (it
    carries one object at a time). Distractor balls, boxes and keys of colours no door uses
    clutter the rooms. Positions, colours and distractor kinds are drawn with the env's seeded
    generator, so an episode is a function of (seed, params).

    Objects never stand in front of a door, never split a room's free cells in two and always
    touch a free cell, so with its keys present every layout is solvable. With
    ``key_distance >= 1`` (and at least one locked door) no keys are placed at all: the first
    door cannot be opened and the episode cannot be solved. This gives a teacher a trivial
    corner, a region learnable with effort and an impossible slab.

    The grid is always allocated at 31 × 7 (five rooms) so the observation and the rendered frame
    keep one shape; rooms beyond the chain are wall.

    ## Parameters

    | name             | range     | harder when larger                  | impossible        |
    |------------------|-----------|-------------------------------------|-------------------|
    | num_locked_rooms | [0, 4]    | more doors to unlock, in order      | never by itself   |
    | key_distance     | [0, 1.25] | keys farther back: carry, backtrack | from 1 on (k ≥ 1) |
    | num_distractors  | [0, 6]    | objects to ignore, wrong keys       | never             |

    How each maps to the layout:

    - ``num_locked_rooms``: ``k`` = nearest integer (halves round up); ``k + 1`` rooms and ``k``
      locked doors of distinct colours, each at a random height of the wall it sits in.
      ``max_steps = 10 × 7 × (6k + 7)``, ten steps per cell of the used grid as DoorKey uses.
      With ``k = 0`` the task is a single room with the goal, whatever the other params.
    - ``key_distance``: below 1, the key of door ``i`` (``i = 1 … k``, door ``i`` leads into room
      ``i``) lies in room ``i − 1 − ⌊key_distance · i⌋``: at 0 each key is just before its door;
      from 0.75 on every key is in the start room. From 1 on the keys would lie before the
      start room, so none are placed.
    - ``num_distractors``: nearest integer number of distractors, each a ball, box or key
      (a key only in a colour no door uses), in a random room with space left.

    Defaults (for partial dicts): ``num_locked_rooms=1, key_distance=0, num_distractors=0`` —
    a DoorKey-like task. ``self.layout`` (a ``KeyDoorLayout``) records what the params
    became.

    ## Action Space

    ``Discrete(7)``, MiniGrid's actions: 0 turn left, 1 turn right, 2 forward, 3 pick up,
    4 drop, 5 toggle (open a door, with its key to unlock it), 6 done (no effect).

    ## Observation Space

    MiniGrid's ``Dict``: ``image`` — ``Box(0, 255, (7, 7, 3), uint8)``, the agent's 7 × 7 view
    encoded per cell as (object, colour, state) indices from ``minigrid.core.constants`` (door
    state 0 open, 1 closed, 2 locked); walls and closed doors block the view, and the agent's
    own cell shows what it carries. ``direction`` — ``Discrete(4)``. ``mission`` — the fixed
    text "unlock the doors in turn and get to the green goal square". Use
    ``teachgym.envs.wrappers`` for stable-baselines3.

    ## Rewards

    ``1 - 0.9 * step_count / max_steps`` when the agent steps onto the goal, otherwise 0. The
    return range is [0, 1]; an episode counts as mastered when the return is above 0.

    ## Starting State

    The agent stands on a random free cell of the start room, facing a random direction,
    carrying nothing; every door is locked.

    ## Episode End

    Terminated when the agent steps onto the goal. Truncated at ``max_steps`` (MiniGrid's own
    time limit; no ``TimeLimit`` wrapper), which a learner should bootstrap through.

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
                "num_locked_rooms": (0.0, float(MAX_LOCKED_ROOMS)),
                "key_distance": (0.0, 1.25),
                "num_distractors": (0.0, float(MAX_DISTRACTORS)),
            },
            defaults={"num_locked_rooms": 1.0, "key_distance": 0.0, "num_distractors": 0.0},
        )
        self.layout: KeyDoorLayout | None = None
        width = 1 + ROOM_PITCH * (MAX_LOCKED_ROOMS + 1)
        height = ROOM_INNER + 2
        super().__init__(
            param_space=param_space,
            mission_space=MissionSpace(mission_func=_mission),
            width=width,
            height=height,
            max_steps=STEPS_PER_CELL * width * height,
            **minigrid_kwargs,
        )

    # ------------------------------------------------------------------ generation
    def _gen_grid(self, width: int, height: int) -> None:
        params = self.params_dict
        locked = _nearest_int(params["num_locked_rooms"])
        num_rooms = locked + 1
        used_width = 1 + ROOM_PITCH * num_rooms
        # Walls carry no state, so one instance serves the whole layout: constructing a fresh one
        # per cell was most of the reset time (and of snapshot copies).
        wall = Wall()
        self.grid = Grid(width, height)
        self.grid.grid = [
            None if 0 < y < height - 1 and x < used_width - 1 and x % ROOM_PITCH != 0 else wall
            for y in range(height)
            for x in range(width)
        ]

        colors = self._rand_subset(COLOR_NAMES, locked)
        door_cells: list[Cell] = []
        for index, color in enumerate(colors):
            cell = (ROOM_PITCH * (index + 1), int(self._rand_int(1, height - 1)))
            self.put_obj(Door(color, is_locked=True), *cell)
            door_cells.append(cell)

        # Objects to place, per room: keys first (so they get the most room), then distractors.
        contents: list[list[WorldObj]] = [[] for _ in range(num_rooms)]
        keys_missing = locked > 0 and params["key_distance"] >= MISSING_KEY_DISTANCE
        key_rooms: list[int] = []
        if not keys_missing:
            for door in range(1, locked + 1):
                room = door - 1 - math.floor(params["key_distance"] * door)
                key_rooms.append(room)
                contents[room].append(Key(colors[door - 1]))
        spare_colors = [color for color in COLOR_NAMES if color not in colors]
        num_distractors = _nearest_int(params["num_distractors"])
        for _ in range(num_distractors):
            # Capacity suffices: at most 4 keys + 6 distractors in rooms of 6 (10 <= 12 when
            # there is a door; 6 <= 6 with a single room, which holds no keys).
            room = self._rand_elem(r for r in range(num_rooms) if len(contents[r]) < ROOM_CAPACITY)
            contents[room].append(self._distractor(spare_colors))

        for room, objects in enumerate(contents):
            self._fill_room(room, objects, door_cells)

        start_room = self._free_cells(0)
        self.agent_pos = self._rand_elem(start_room)
        self.agent_dir = int(self._rand_int(0, 4))
        goal_room = [c for c in self._free_cells(locked) if c != self.agent_pos]
        goal = self._rand_elem(goal_room)
        self.put_obj(Goal(), *goal)
        self.goal_pos = goal

        self.mission = _mission()
        self.max_steps = STEPS_PER_CELL * used_width * height
        self.layout = KeyDoorLayout(
            num_locked_rooms=locked,
            door_cells=tuple(door_cells),
            door_colors=tuple(colors),
            key_rooms=tuple(key_rooms),
            keys_missing=keys_missing,
            num_distractors=num_distractors,
            max_steps=self.max_steps,
        )

    def _distractor(self, spare_colors: list[str]) -> WorldObj:
        kind = self._rand_elem(_DISTRACTOR_KINDS)
        if kind == "key":
            # Never a door's colour: a distractor must not open anything.
            return Key(self._rand_elem(spare_colors))
        color = self._rand_elem(COLOR_NAMES)
        return Ball(color) if kind == "ball" else Box(color)

    def _fill_room(self, room: int, objects: list[WorldObj], door_cells: list[Cell]) -> None:
        """Place ``objects`` in the (empty) ``room`` at random cells that keep it passable."""
        if not objects:
            return
        cells = _room_cells(room)
        doorsteps = set(_doorsteps(door_cells))
        candidates = [cell for cell in cells if cell not in doorsteps]
        occupied: set[Cell] = set()
        for obj in objects:
            # Scanning a random order of the (at most 25) cells bounds the work; no rejection loop.
            for index in self.np_random.permutation(len(candidates)):
                cell = candidates[index]
                if cell not in occupied and _stays_passable(cells, occupied | {cell}):
                    self.put_obj(obj, *cell)
                    occupied.add(cell)
                    break
            else:
                break
        else:
            return
        # An unlucky order left no cell that keeps the room passable: use the fixed pattern.
        for cell in occupied:
            self.grid.set(*cell, None)
        slots = self._rand_subset(_SAFE_SLOTS, len(objects))
        x0 = ROOM_PITCH * room + 1
        for obj, (dx, dy) in zip(objects, slots, strict=True):
            self.put_obj(obj, x0 + dx, 1 + dy)

    def _free_cells(self, room: int) -> list[Cell]:
        return [cell for cell in _room_cells(room) if self.grid.get(*cell) is None]


def _room_cells(room: int) -> list[Cell]:
    x0 = ROOM_PITCH * room + 1
    return [(x, y) for y in range(1, ROOM_INNER + 1) for x in range(x0, x0 + ROOM_INNER)]


def _stays_passable(cells: list[Cell], occupied: set[Cell]) -> bool:
    """Whether the free ``cells`` of a room stay connected and every occupied cell touches one
    (so each object can be picked up or walked around)."""
    free = [cell for cell in cells if cell not in occupied]
    if not free:
        return False
    free_set = set(free)
    seen = {free[0]}
    frontier = [free[0]]
    while frontier:
        for neighbour in _neighbours(frontier.pop()):
            if neighbour in free_set and neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    if len(seen) != len(free):
        return False
    return all(any(n in free_set for n in _neighbours(cell)) for cell in occupied)


def _doorsteps(door_cells: Iterable[Cell]) -> list[Cell]:
    """The cells on either side of each door, which must stay free."""
    return [cell for x, y in door_cells for cell in ((x - 1, y), (x + 1, y))]


def _nearest_int(value: float) -> int:
    # Halves round up (Python's round() rounds them to even, which would make bins uneven).
    return math.floor(value + 0.5)


def _neighbours(cell: Cell) -> tuple[Cell, ...]:
    x, y = cell
    return ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1))
