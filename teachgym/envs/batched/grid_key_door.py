"""``BatchedGridKeyDoor``: ``num_envs`` copies of ``GridKeyDoor`` as a few torch tensors.

The card of the family is ``teachgym.envs.grids.grid_key_door.GridKeyDoor``; this module is the
same family stepped in batch on one device, without MiniGrid. The dynamics (keys, locked doors,
pick up / drop / toggle), observation, autoreset and per-env params are
``teachgym.envs.batched.base.BatchedGridEnv``'s; the class docstring says what differs.
"""

from __future__ import annotations

import torch

from teachgym.envs.batched.base import (
    BALL,
    BOX,
    DOOR,
    EMPTY,
    GOAL,
    GREEN,
    GREY,
    KEY,
    LOCKED,
    NUM_COLOURS,
    WALL,
    BatchedGridEnv,
)
from teachgym.spaces import ParamSpace

__all__ = ["GRID_KEY_DOOR_PARAM_SPACE", "BatchedGridKeyDoor"]

# The family's constants (teachgym.envs.grids.grid_key_door), restated: it imports MiniGrid.
MAX_LOCKED_ROOMS = 4
MAX_DISTRACTORS = 6
ROOM_INNER = 5
ROOM_PITCH = ROOM_INNER + 1
MAX_ROOMS = MAX_LOCKED_ROOMS + 1
MISSING_KEY_DISTANCE = 1.0
STEPS_PER_CELL = 10
ROOM_CAPACITY = 6
GRID_WIDTH = 1 + ROOM_PITCH * MAX_ROOMS  # 31
GRID_HEIGHT = ROOM_INNER + 2  # 7
#: Room-relative cells (x, y) of the family's fallback pattern: rows 0, 2, 4 and columns 0, 4
#: stay free, so the free cells stay connected, every object touches one and no doorstep is used.
SAFE_SLOTS = tuple((x, y) for y in (1, 3) for x in (1, 2, 3))
#: Distractor kinds, in the family's order (ball, box, key).
DISTRACTOR_CODES = (BALL, BOX, KEY)
MAX_OBJECTS = MAX_LOCKED_ROOMS + MAX_DISTRACTORS

#: ``GridKeyDoor``'s params, restated (the MiniGrid-based module imports MiniGrid).
GRID_KEY_DOOR_PARAM_SPACE = ParamSpace.from_bounds(
    {
        "num_locked_rooms": (0.0, float(MAX_LOCKED_ROOMS)),
        "key_distance": (0.0, 1.25),
        "num_distractors": (0.0, float(MAX_DISTRACTORS)),
    },
    defaults={"num_locked_rooms": 1.0, "key_distance": 0.0, "num_distractors": 0.0},
)


class BatchedGridKeyDoor(BatchedGridEnv):
    """``num_envs`` ``GridKeyDoor`` envs stepped together as tensors on one device.

    Same ``ParamSpace`` (names, bounds, defaults), action set, observation, reward, termination
    and truncation, ``return_range`` and mastery threshold as the MiniGrid-based family; layouts
    follow its rules: ``k`` = nearest ``num_locked_rooms`` (halves up) gives ``k + 1`` rooms of
    5 × 5 in a row and ``k`` locked doors of distinct random colours at random heights; the key of
    door ``i`` (``i = 1 … k``) lies in room ``i − 1 − ⌊key_distance · i⌋``, no keys at all when
    ``key_distance >= 1`` and ``k >= 1``; nearest ``num_distractors`` distractors, each a ball,
    box (any colour) or key (a colour no door uses) in a uniformly drawn room with fewer than 6
    objects; the agent on a random free cell of the start room facing a random direction, the
    goal on a random free cell of the last room; ``max_steps = 10 × 7 × (6k + 7)``. The grid is
    31 × 7 (five rooms); rooms beyond the chain are wall.

    **Difference**: the MiniGrid-based env puts a room's objects on random cells that keep the
    room passable (checked by a flood fill), falling back to a fixed pattern of six cells when a
    draw fails. A flood fill per draw does not batch, so here every room's objects take random
    slots of that fixed pattern (room-relative cells ``(1..3, 1)`` and ``(1..3, 3)``) or of its
    transpose (``(1, 1..3)`` and ``(3, 1..3)``), drawn per room. Both keep every guarantee of the
    family (free cells connected, every object next to a free cell, doorsteps free, solvable with
    its keys), but objects never stand on a room's outer ring or centre here, and the agent and
    goal cells are correspondingly a little more spread. The random stream is not MiniGrid's: a
    (seed, params) pair gives a different layout from the MiniGrid-based env. ``load_layouts``
    replays the MiniGrid-based env's layouts exactly (tests do, step for step). Boxes are always
    empty (as the family's are), so toggling one makes it vanish, as in MiniGrid.

    Args:
        num_envs: How many envs, at least 1.
        device: Torch device of every state tensor (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …).
        seed: Seed of the env's ``torch.Generator`` (layouts and uniform param draws); ``None``
            seeds it from the OS. ``reset(seed=...)`` reseeds it.

    State: as ``BatchedGridEnv``, with ``grid`` of shape ``(num_envs, 3, 31, 7)`` and ``params``
    ``(num_envs, 3)``.
    """

    param_space = GRID_KEY_DOOR_PARAM_SPACE
    grid_width = GRID_WIDTH
    grid_height = GRID_HEIGHT
    object_codes = (EMPTY, WALL, DOOR, KEY, BALL, BOX, GOAL)

    def _generate(self, index: torch.Tensor, params: torch.Tensor) -> None:
        """The family's layout rules (see the class docstring), for ``len(index)`` envs at once."""
        k, dev = len(index), self.device
        height = GRID_HEIGHT
        cells = GRID_WIDTH * height
        locked = torch.floor(params[:, 0] + 0.5).long()  # halves round up, as the family's
        key_distance = params[:, 1]
        num_distractors = torch.floor(params[:, 2] + 0.5).long()
        num_rooms = locked + 1
        used_width = 1 + ROOM_PITCH * num_rooms
        x, y = self._cell_x[None, :], self._cell_y[None, :]  # (1, cells)
        interior = (y >= 1) & (y <= height - 2) & (x < used_width[:, None] - 1)
        interior &= x % ROOM_PITCH != 0
        room_of_cell = (x - 1) // ROOM_PITCH

        # Door colours: the first k of a random permutation of the six; the rest are spare.
        colours = self._rand(k, NUM_COLOURS).argsort(dim=1)
        door = torch.arange(MAX_LOCKED_ROOMS, device=dev)[None, :]
        door_valid = door < locked[:, None]
        door_y = 1 + (self._rand(k, MAX_LOCKED_ROOMS) * ROOM_INNER).long()
        door_cell = ROOM_PITCH * (door + 1) * height + door_y

        # Objects: keys first, then distractors, each with a room and its rank in that room.
        keys_missing = (locked > 0) & (key_distance >= MISSING_KEY_DISTANCE)
        key_room = door - torch.floor(key_distance[:, None] * (door + 1)).long()
        key_valid = door_valid & ~keys_missing[:, None]
        counts = torch.zeros(k, MAX_ROOMS, dtype=torch.long, device=dev)
        rooms = torch.arange(MAX_ROOMS, device=dev)[None, :]
        object_room, object_rank, object_valid = [], [], []
        object_code, object_colour = [], []
        for slot in range(MAX_LOCKED_ROOMS):
            room = key_room[:, slot].clamp(min=0)
            valid = key_valid[:, slot]
            object_rank.append(torch.gather(counts, 1, room[:, None]).squeeze(1))
            counts += (rooms == room[:, None]).long() * valid[:, None].long()
            object_room.append(room)
            object_valid.append(valid)
            object_code.append(torch.full((k,), KEY, dtype=torch.long, device=dev))
            object_colour.append(colours[:, slot])
        kind_codes = torch.tensor(DISTRACTOR_CODES, dtype=torch.long, device=dev)
        spare = NUM_COLOURS - locked
        for slot in range(MAX_DISTRACTORS):
            valid = slot < num_distractors
            open_rooms = (rooms < num_rooms[:, None]) & (counts < ROOM_CAPACITY)
            room = torch.where(open_rooms, self._rand(k, MAX_ROOMS), -1.0).argmax(dim=1)
            object_rank.append(torch.gather(counts, 1, room[:, None]).squeeze(1))
            counts += (rooms == room[:, None]).long() * valid[:, None].long()
            kind = kind_codes.index_select(0, (self._rand(k) * 3).long().clamp(max=2))
            spare_pick = locked + (self._rand(k) * spare).long().clamp(max=spare - 1)
            spare_colour = torch.gather(colours, 1, spare_pick[:, None]).squeeze(1)
            any_colour = (self._rand(k) * NUM_COLOURS).long().clamp(max=NUM_COLOURS - 1)
            object_room.append(room)
            object_valid.append(valid)
            object_code.append(kind)
            object_colour.append(torch.where(kind == KEY, spare_colour, any_colour))
        room_t = torch.stack(object_room, dim=1)  # (k, MAX_OBJECTS)
        rank_t = torch.stack(object_rank, dim=1).clamp(max=ROOM_CAPACITY - 1)
        valid_t = torch.stack(object_valid, dim=1)

        # Cells: a random slot of the room's pattern (or of its transpose) per object.
        slot_order = self._rand(k, MAX_ROOMS, ROOM_CAPACITY).argsort(dim=2).view(k, -1)
        transposed = self._rand(k, MAX_ROOMS) < 0.5
        pattern_slot = torch.gather(slot_order, 1, room_t * ROOM_CAPACITY + rank_t)
        across, down = 1 + pattern_slot % 3, 1 + 2 * (pattern_slot // 3)
        flip = torch.gather(transposed, 1, room_t)
        room_x = torch.where(flip, down, across)
        room_y = torch.where(flip, across, down)
        object_cell = (ROOM_PITCH * room_t + 1 + room_x) * height + 1 + room_y

        dump = torch.full_like(object_cell, cells)  # a column past the grid for unused slots
        occupied = torch.zeros(k, cells + 1, dtype=torch.bool, device=dev)
        occupied.scatter_(1, torch.where(valid_t, object_cell, dump), True)
        free = interior & ~occupied[:, :cells]

        def pick(candidates: torch.Tensor) -> torch.Tensor:  # a uniform candidate per row
            return torch.where(candidates, self._rand(k, cells), -1.0).argmax(dim=1)

        agent = pick(free & (room_of_cell == 0))
        goal_room = free & (room_of_cell == locked[:, None])
        goal = pick(goal_room & (torch.arange(cells, device=dev)[None, :] != agent[:, None]))

        objects = torch.where(interior, EMPTY, WALL).expand(k, cells).contiguous()
        colour = torch.where(interior, 0, GREY).expand(k, cells).contiguous()
        state = torch.zeros(k, cells + 1, dtype=torch.long, device=dev)
        objects = torch.cat([objects, objects[:, :1]], dim=1)
        colour = torch.cat([colour, colour[:, :1]], dim=1)
        door_index = torch.where(door_valid, door_cell, cells)
        objects.scatter_(1, door_index, DOOR)
        colour.scatter_(1, door_index, colours[:, :MAX_LOCKED_ROOMS])
        state.scatter_(1, door_index, LOCKED)
        object_index = torch.where(valid_t, object_cell, cells)
        objects.scatter_(1, object_index, torch.stack(object_code, dim=1))
        colour.scatter_(1, object_index, torch.stack(object_colour, dim=1))
        objects.scatter_(1, goal[:, None], GOAL)
        colour.scatter_(1, goal[:, None], GREEN)
        grid = torch.stack([objects, colour, state], dim=1)[:, :, :cells].to(torch.uint8)
        self.grid.index_copy_(0, index, grid.view(k, 3, GRID_WIDTH, height))
        agent_xy = torch.stack(
            [self._cell_x.index_select(0, agent), self._cell_y.index_select(0, agent)], dim=1
        )
        self.agent_pos.index_copy_(0, index, agent_xy)
        directions = torch.randint(4, (k,), device=dev, generator=self.generator)
        self.agent_dir.index_copy_(0, index, directions)
        self.max_steps.index_copy_(0, index, STEPS_PER_CELL * used_width * height)
