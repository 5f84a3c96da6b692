"""NoisyRooms: MultiRoom-style room chains whose floors flicker until the agent switches them off.

Adversarial Surprise (Fickinger et al. 2021, "Explore and Control with Adversarial Surprise")
pits an *Explore* policy that seeks surprising observations against a *Control* policy that seeks
predictable ones. Studying it needs rooms whose observations are noisy until the agent acts on
the world to make them predictable. ``NoisyRooms`` provides them as a parameterized family: a
chain of rooms joined by doors, as in MiniGrid's ``MultiRoom``, where some rooms have a floor
that is re-coloured at random every step until the agent opens the box in that room.

The module also holds ``RoomChainGridEnv``, the room-chain layout shared with ``NoisyTVRooms``
(``teachgym.envs.grids.noisy_tv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, SupportsFloat

import numpy as np
from minigrid.core.constants import COLOR_NAMES, COLOR_TO_IDX, IDX_TO_COLOR, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Box, Door, Floor, Goal

from teachgym.envs.grids.base import ParameterizedGridEnv
from teachgym.spaces import ParamSpace

__all__ = [
    "NoiseBox",
    "NoisyFloor",
    "NoisyRooms",
    "NoisyRoomsLayout",
    "Room",
    "RoomChainGridEnv",
    "round_half_up",
    "traverse_mission",
]

MIN_ROOMS, MAX_ROOMS = 1, 6
# Outer side of a room, walls included (MiniGrid's MultiRoom convention): 4 leaves a 2 x 2 interior.
MIN_ROOM_SIZE, MAX_ROOM_SIZE = 4, 10
# Rooms sit on a lattice of slots that share walls. Three slots of the largest room per side fit
# any chain of MAX_ROOMS rooms from any start slot (a self-avoiding walk of 6 cells exists from
# every cell of a 3 x 3 lattice), so the grid is allocated once at this size.
_SLOTS_FOR_LARGEST = 3
GRID_SIZE = _SLOTS_FOR_LARGEST * (MAX_ROOM_SIZE - 1) + 1
_NUM_COLORS = len(COLOR_NAMES)
_FLOOR_TYPE = OBJECT_TO_IDX["floor"]
_STEPS = ((1, 0), (0, 1), (-1, 0), (0, -1))
# Noise is drawn for this many steps at once (see NoisyRooms._draw_noise_path).
NOISE_CHUNK = 32
# How far round the colour wheel a noisy tile moves for each code (see _draw_noise_path).
_SHIFT_OF_CODE = np.array([1, 2, 3, 4, 5, 0], dtype=np.int8)


def round_half_up(value: float) -> int:
    """The integer a continuous parameter stands for (``2.5 -> 3``; ties do not alternate)."""
    return int(np.floor(value + 0.5))


def traverse_mission() -> str:
    """The fixed mission of the room-chain families (module-level, so the envs pickle)."""
    return "traverse the rooms to get to the goal"


@dataclass(frozen=True)
class Room:
    """A square room of the chain: top-left wall corner and outer side (walls included)."""

    top: tuple[int, int]
    size: int

    def interior(self) -> list[tuple[int, int]]:
        """The cells inside the walls, row by row."""
        x0, y0 = self.top
        return [
            (x, y)
            for y in range(y0 + 1, y0 + self.size - 1)
            for x in range(x0 + 1, x0 + self.size - 1)
        ]


class NoisyFloor(Floor):
    """A floor tile whose colour index lives in an array shared by every noisy tile of the grid.

    Sharing the array lets the env re-colour all tiles with one array copy per step, instead of
    one Python attribute write per tile. The tile is otherwise a plain
    MiniGrid ``Floor``: walkable, encoded as ``(OBJECT_TO_IDX["floor"], colour, 0)`` in the
    agent's image and drawn as a pale square in renders. ``copy.deepcopy`` of the env keeps the
    array shared between the tiles and the env, so snapshots stay consistent.
    """

    def __init__(self, colours: np.ndarray, index: int) -> None:
        """
        Args:
            colours: The shared array of colour indices (``minigrid.core.constants.COLOR_TO_IDX``).
            index: This tile's entry in ``colours``.
        """
        self._colours = colours
        self._index = index
        super().__init__(IDX_TO_COLOR[int(colours[index])])

    def rebind(self, colours: np.ndarray, index: int) -> None:
        """Point the tile at entry ``index`` of a new shared array (when the env compacts it)."""
        self._colours = colours
        self._index = index

    @property  # type: ignore[override]
    def color(self) -> str:
        return IDX_TO_COLOR[self._colours.item(self._index)]

    @color.setter
    def color(self, value: str) -> None:
        self._colours[self._index] = COLOR_TO_IDX[value]

    def encode(self) -> tuple[int, int, int]:
        # Called for every visible cell on every step: skip the two dict look-ups of the base class.
        return (_FLOOR_TYPE, self._colours.item(self._index), 0)


class NoiseBox(Box):
    """The switch of a noisy room: opening it (``toggle``) freezes that room's floor for good.

    It cannot be picked up, so it stays in the room it controls; once opened it disappears, as a
    MiniGrid box does, leaving an empty cell.
    """

    def __init__(self, room_index: int, color: str = "yellow") -> None:
        super().__init__(color)
        self.room_index = room_index

    def can_pickup(self) -> bool:
        return False

    def toggle(self, env: Any, pos: tuple[int, int]) -> bool:
        env.freeze_room_noise(self.room_index)
        env.grid.set(pos[0], pos[1], None)
        return True


class RoomChainGridEnv(ParameterizedGridEnv):
    """Base of the room-chain families: MultiRoom-like chains of square rooms on a fixed grid.

    ``_build_room_chain(num_rooms, room_size)`` lays the walls and doors and places the agent in
    the first room and the goal in the last; subclasses add their own objects afterwards with
    ``_place_in_room``, and put their own dynamics in ``_before_action`` (run by ``step`` before
    MiniGrid applies the action). All randomness goes through MiniGrid's seeded ``np_random``.

    Unlike ``MultiRoomEnv``, which draws each room's size at random, every room here has the size
    the parameter asks for, so the parameter maps to difficulty monotonically. Rooms occupy slots
    of a lattice and consecutive rooms share a wall with a door in it; the chain is a random
    self-avoiding walk over the lattice, found by depth-first search with backtracking, so it
    always has exactly the requested number of rooms.
    """

    def __init__(
        self, param_space: ParamSpace, mission_space: MissionSpace, max_steps: int, **kwargs: Any
    ) -> None:
        self.rooms: list[Room] = []
        self.goal_pos: tuple[int, int] = (-1, -1)
        super().__init__(
            param_space, mission_space, GRID_SIZE, GRID_SIZE, max_steps=max_steps, **kwargs
        )

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """The family's own dynamics (``_before_action``), then MiniGrid's step."""
        self._before_action(int(action))
        return super().step(action)

    def _before_action(self, action: int) -> None:
        """Hook: what the family does on a step before MiniGrid applies ``action``."""

    # ------------------------------------------------------------------ layout
    def _build_room_chain(self, num_rooms: int, room_size: int) -> None:
        """Lay a chain of rooms in ``self.grid``: the agent in the first, the goal in the last."""
        stride = room_size - 1
        slots_x = (self.width - 1) // stride
        slots_y = (self.height - 1) // stride
        offset_x = self._rand_int(0, self.width - (slots_x * stride + 1) + 1)
        offset_y = self._rand_int(0, self.height - (slots_y * stride + 1) + 1)
        slots = self._random_walk(num_rooms, slots_x, slots_y)
        self.rooms = [
            Room((int(offset_x + sx * stride), int(offset_y + sy * stride)), room_size)
            for sx, sy in slots
        ]

        self.grid = Grid(self.width, self.height)
        for room in self.rooms:
            self.grid.wall_rect(room.top[0], room.top[1], room.size, room.size)
        previous_color: str | None = None
        for before, after in zip(self.rooms, self.rooms[1:], strict=False):
            color = self._rand_elem([c for c in COLOR_NAMES if c != previous_color])
            x, y = self._door_position(before, after)
            self.grid.set(x, y, Door(color))
            previous_color = color

        self.place_agent(self.rooms[0].top, (room_size, room_size))
        self.goal_pos = self._place_in_room(Goal(), self.rooms[-1], avoid_doors=False)

    def _random_walk(self, length: int, slots_x: int, slots_y: int) -> list[tuple[int, int]]:
        path = [(int(self._rand_int(0, slots_x)), int(self._rand_int(0, slots_y)))]

        def extend() -> bool:
            if len(path) == length:
                return True
            x, y = path[-1]
            for k in self.np_random.permutation(len(_STEPS)):
                dx, dy = _STEPS[k]
                nxt = (x + dx, y + dy)
                if 0 <= nxt[0] < slots_x and 0 <= nxt[1] < slots_y and nxt not in path:
                    path.append(nxt)
                    if extend():
                        return True
                    path.pop()
            return False

        if not extend():  # pragma: no cover - excluded by the lattice size (see GRID_SIZE)
            raise RuntimeError(f"no chain of {length} rooms fits a {slots_x}x{slots_y} lattice")
        return path

    def _door_position(self, before: Room, after: Room) -> tuple[int, int]:
        """A random non-corner cell of the wall the two neighbouring rooms share."""
        along = int(self._rand_int(1, before.size - 1))
        (bx, by), (ax, ay) = before.top, after.top
        if ax != bx:
            return max(ax, bx), by + along  # side by side: a vertical shared wall
        return bx + along, max(ay, by)

    def _door_cells(self, room: Room) -> list[tuple[int, int]]:
        x0, y0 = room.top
        last = room.size - 1
        return [
            (x, y)
            for x in range(x0, x0 + room.size)
            for y in range(y0, y0 + room.size)
            if (x in (x0, x0 + last) or y in (y0, y0 + last))
            and isinstance(self.grid.get(x, y), Door)
        ]

    def _free_cells(self, room: Room) -> list[tuple[int, int]]:
        """Empty interior cells of ``room``, the agent's excepted."""
        agent = (int(self.agent_pos[0]), int(self.agent_pos[1]))
        return [cell for cell in room.interior() if self.grid.get(*cell) is None and cell != agent]

    def _place_in_room(self, obj: Any, room: Room, avoid_doors: bool = True) -> tuple[int, int]:
        """Put ``obj`` on a random free interior cell of ``room`` (not the agent's).

        With ``avoid_doors`` the cells just inside a door are skipped when any other cell is
        free, so an object does not stand in the doorway.
        """
        free = self._free_cells(room)
        if not free:
            raise RuntimeError(f"no free cell left in room {room}")
        if avoid_doors:
            doorways = {(x + dx, y + dy) for x, y in self._door_cells(room) for dx, dy in _STEPS}
            free = [cell for cell in free if cell not in doorways] or free
        x, y = self._rand_elem(free)
        self.put_obj(obj, x, y)
        return x, y


@dataclass(frozen=True)
class NoisyRoomsLayout:
    """What the params of one ``NoisyRooms`` episode turned into.

    Attributes:
        num_rooms: Rooms in the chain.
        room_size: Outer side of every room, walls included.
        noisy_rooms: Indices (in chain order, 0 = the agent's) of the noisy rooms.
        noise_prob: Per-tile, per-step probability that a noisy tile changes colour.
    """

    num_rooms: int
    room_size: int
    noisy_rooms: tuple[int, ...]
    noise_prob: float


class NoisyRooms(RoomChainGridEnv):
    """A chain of rooms, some with a flickering floor that only the room's box switches off.

    ## Description

    The agent starts in the first of a chain of square rooms joined by closed doors and must
    reach the green goal in the last room, as in MiniGrid's ``MultiRoom``. Some rooms are *noisy*:
    every interior floor tile is a coloured ``Floor`` that, on every step, changes to another
    colour with probability ``noise_prob``, independently of the other tiles. Each noisy room
    also holds a yellow box; opening it (``toggle``) removes it and freezes that room's floor in
    its current colours for the rest of the episode. Plain rooms have a black, empty floor.

    The family is modelled on the stochastic MiniGrid rooms used to study Adversarial Surprise
    (Fickinger et al. 2021): an agent that minimises surprise gains by finding the box and
    switching the noise off, while a surprise-seeking explorer is drawn to the noisy rooms. The
    task reward ignores the noise, so the family also measures how much noise distracts a
    curiosity-driven student.

    ## Parameters

    | name               | range   | harder when larger                   | impossible |
    |--------------------|---------|--------------------------------------|------------|
    | ``num_rooms``      | [1, 6]  | one more door and room to cross each | never      |
    | ``room_size``      | [4, 10] | longer paths, doors harder to find   | never      |
    | ``noisy_fraction`` | [0, 1]  | more rooms distract a curious agent  | never      |
    | ``noise_prob``     | [0, 1]  | noisier floor until switched off     | never      |

    How each maps to the layout (rounding is half-up):

    - ``num_rooms``: ``round(num_rooms)`` rooms, laid as a random self-avoiding chain on a
      lattice of slots; consecutive rooms share a wall with a closed, unlocked door in it. With
      one room the agent and the goal share it.
    - ``room_size``: ``round(room_size)`` is the outer side of every room, walls included (a
      ``4`` room has a 2 × 2 interior), as in MiniGrid's ``MultiRoom`` (which draws each room's
      size at random instead; here every room has the asked size, so difficulty is monotone).
    - ``noisy_fraction``: ``round(noisy_fraction * rooms)`` noisy rooms, chosen at random.
    - ``noise_prob``: per-tile, per-step probability that a noisy tile changes colour (to one
      of the five others, uniformly); 0 gives a static random colouring, 1 changes every tile
      on every step.

    The noise never changes the optimal path, only how much a surprise-seeking or
    surprise-avoiding agent is pulled around. The goal is always reachable: doors are never
    locked, boxes go away from doorways when the room has space for it and vanish when opened.

    Where the family is trivial or hard (measured over 100-200 seeds;
    ``tests/envs/test_noisy_rooms.py`` checks that every corner is solved within the budget):

    - Trivial: ``num_rooms=1, room_size=4``: a random policy reaches the goal in ~85% of
      episodes (~18% with ``room_size=10``, ~14% with two rooms of size 4, <1% with two rooms
      of size 7, 0% from three rooms of size 7 on).
    - Hard: ``num_rooms=6, room_size=10``: an optimal policy needs 66 steps on average and at
      most ~85 of the 120 allowed (best return ~0.5); a random policy never succeeds.
    - Impossible: nowhere with the default ``max_steps=120``. A budget below ~85 makes some
      six-room, size-10 layouts impossible (``max_steps`` is a constructor argument).

    Defaults (for partial dicts): ``num_rooms=3, room_size=6, noisy_fraction=0.5,
    noise_prob=0.5``. ``self.layout`` (a ``NoisyRoomsLayout``) records what the params became.

    ## Action Space

    ``Discrete(7)``, MiniGrid's actions: 0 left, 1 right, 2 forward, 3 pickup (unused), 4 drop
    (unused), 5 toggle (opens doors and boxes), 6 done (unused).

    ## Observation Space

    MiniGrid's ``Dict``: ``image`` ``Box(0, 255, (7, 7, 3), uint8)`` (the agent's egocentric view
    encoded as ``(object, colour, state)`` per cell; a noisy tile reads ``(3, colour, 0)``),
    ``direction`` ``Discrete(4)`` and ``mission`` (the fixed string "traverse the rooms to get to
    the goal").

    ## Rewards

    ``1 - 0.9 * step_count / max_steps`` when the agent steps onto the goal, else 0. Return range
    [0, 1]; an episode is mastered when the goal is reached at all (return > 0).

    ## Starting State

    A random cell and direction in the first room. Which rooms are noisy, the room positions,
    door positions and colours, the goal and box cells and the initial floor colours are drawn
    from the env's seeded ``np_random``, so an episode is a function of (seed, params). The floor
    colours change at the start of each step, before the action, so the observation returned by
    ``step`` shows that step's colours; the step that opens a box shows the colours that stay.

    ## Episode End

    *Terminated* when the agent reaches the goal. *Truncated* after ``max_steps`` steps (MiniGrid
    truncates itself; the registered id adds no ``TimeLimit``).

    ## Snapshots

    ``get_state()`` / ``set_state(state)`` capture the layout, the floor colours, the frozen
    rooms, the noise already drawn for the next steps, the step count and the RNG, so a restored
    episode has the same future, noise included.

    ## Version History

    - v0: initial version.
    """

    def __init__(self, max_steps: int = 120, **kwargs: Any) -> None:
        """
        Args:
            max_steps: Step budget of an episode; 20 per room of the longest chain, as MiniGrid's
                ``MultiRoom-N6`` allows.
            **kwargs: Passed to ``MiniGridEnv`` (``render_mode``, ``agent_view_size``,
                ``see_through_walls``, ``tile_size`` …).
        """
        space = ParamSpace.from_bounds(
            {
                "num_rooms": (MIN_ROOMS, MAX_ROOMS),
                "room_size": (MIN_ROOM_SIZE, MAX_ROOM_SIZE),
                "noisy_fraction": (0.0, 1.0),
                "noise_prob": (0.0, 1.0),
            },
            defaults={"num_rooms": 3, "room_size": 6, "noisy_fraction": 0.5, "noise_prob": 0.5},
        )
        # Episode state lives in instance attributes so get_state()/set_state() copy it.
        self.layout = NoisyRoomsLayout(0, 0, (), 0.0)
        self.noise_prob = 0.0
        self.noise_frozen = np.zeros(0, dtype=bool)
        # The *unfrozen* noisy tiles, aligned: tile k is floor_tiles[k], coloured floor_colours[k],
        # in room floor_tile_room[k].
        self.floor_tiles: list[NoisyFloor] = []
        self.floor_colours = np.zeros(0, dtype=np.int8)
        self.floor_tile_room = np.zeros(0, dtype=np.intp)
        # Colours of the live tiles for the next steps, row by row (see _draw_noise_path).
        self._noise_path = np.zeros((0, 0), dtype=np.int8)
        self._noise_cursor = 0
        super().__init__(space, MissionSpace(mission_func=traverse_mission), max_steps, **kwargs)

    # ------------------------------------------------------------------ episode
    def _gen_grid(self, width: int, height: int) -> None:
        params = self.params_dict
        num_rooms = round_half_up(params["num_rooms"])
        room_size = round_half_up(params["room_size"])
        num_noisy = round_half_up(params["noisy_fraction"] * num_rooms)
        self.noise_prob = float(params["noise_prob"])

        self._build_room_chain(num_rooms, room_size)
        self.mission = traverse_mission()

        noisy_rooms = sorted(int(i) for i in self._rand_subset(range(num_rooms), num_noisy))
        self.layout = NoisyRoomsLayout(num_rooms, room_size, tuple(noisy_rooms), self.noise_prob)
        self.noise_frozen = np.zeros(num_rooms, dtype=bool)
        for index in noisy_rooms:
            self._place_in_room(NoiseBox(index), self.rooms[index])

        # Lay the floor last, on every cell still empty (the agent's included: floor is walkable).
        cells = [
            (index, cell)
            for index in noisy_rooms
            for cell in self.rooms[index].interior()
            if self.grid.get(*cell) is None
        ]
        self.floor_colours = self.np_random.integers(0, _NUM_COLORS, size=len(cells), dtype=np.int8)
        self.floor_tile_room = np.array([index for index, _ in cells], dtype=np.intp)
        self.floor_tiles = []
        for tile, (_, (x, y)) in enumerate(cells):
            floor = NoisyFloor(self.floor_colours, tile)
            self.put_obj(floor, x, y)
            self.floor_tiles.append(floor)
        self._noise_path = np.zeros((0, len(cells)), dtype=np.int8)
        self._noise_cursor = 0

    def _before_action(self, action: int) -> None:
        self._recolour_floor()

    # ------------------------------------------------------------------ noise
    def freeze_room_noise(self, room_index: int) -> None:
        """Stop the floor of room ``room_index`` from changing for the rest of the episode.

        Its tiles become ordinary MiniGrid ``Floor`` tiles of their current colours, and the
        arrays of noisy tiles are compacted, so ``_recolour_floor`` only touches live noise.
        """
        self.noise_frozen[room_index] = True
        keep = self.floor_tile_room != room_index
        kept = []
        for tile, stays in zip(self.floor_tiles, keep, strict=True):
            if stays:
                kept.append(tile)
            else:
                x, y = tile.cur_pos  # type: ignore[misc]
                self.put_obj(Floor(tile.color), x, y)
        self.floor_colours = self.floor_colours[keep]
        self.floor_tile_room = self.floor_tile_room[keep]
        self._noise_path = self._noise_path[:, keep]
        for index, tile in enumerate(kept):
            tile.rebind(self.floor_colours, index)
        self.floor_tiles = kept

    def _recolour_floor(self) -> None:
        if self.floor_colours.size == 0 or self.noise_prob <= 0.0:
            return
        if self._noise_cursor == len(self._noise_path):
            self._draw_noise_path()
        self.floor_colours[:] = self._noise_path[self._noise_cursor]
        self._noise_cursor += 1

    def _draw_noise_path(self) -> None:
        """Draw the live tiles' colours for the next ``NOISE_CHUNK`` steps with one RNG call.

        A step then costs one array copy, whatever the number of tiles. Each
        tile's colour is a Markov chain: with probability ``p`` it moves to one of the five other
        colours, uniformly. One uniform draw ``u`` per tile and step decides both: ``code =
        floor(u * 5 / p)`` is below 5 exactly when ``u < p``, and given that it is uniform on
        0-4, so the colour moves ``code + 1`` places round the colour wheel (mod 6).
        """
        draws = self.np_random.random((NOISE_CHUNK, self.floor_colours.size))
        # The cap keeps the scale finite for denormal probabilities (noise off in practice).
        draws *= (_NUM_COLORS - 1) / max(self.noise_prob, 1e-12)
        np.minimum(draws, _NUM_COLORS - 1, out=draws)
        shifts = _SHIFT_OF_CODE[draws.astype(np.intp)]
        path = np.cumsum(shifts, axis=0, dtype=np.int16)
        path += self.floor_colours
        path %= _NUM_COLORS
        self._noise_path = path.astype(np.int8)
        self._noise_cursor = 0
