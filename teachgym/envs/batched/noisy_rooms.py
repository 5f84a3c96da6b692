"""``BatchedNoisyRooms``: ``num_envs`` copies of ``NoisyRooms`` as a few torch tensors.

The card of the family is ``teachgym.envs.grids.noisy_rooms.NoisyRooms``; this module is the same
family stepped in batch on one device, without MiniGrid. It also holds ``BatchedRoomChainEnv``,
the batched room-chain layout shared with ``BatchedNoisyTVRooms``
(``teachgym.envs.batched.noisy_tv``), as the MiniGrid-based module holds ``RoomChainGridEnv``.
The dynamics, observation, autoreset and per-env params are
``teachgym.envs.batched.base.BatchedGridEnv``'s; the class docstrings say what differs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from teachgym.checks import check_int
from teachgym.envs.batched.base import (
    BOX,
    CLOSED,
    DIR_TO_VEC,
    DONE,
    DOOR,
    EMPTY,
    FLOOR,
    GOAL,
    GREEN,
    GREY,
    NUM_COLOURS,
    PICKUP,
    TOGGLE,
    VIEW_SIZE,
    WALL,
    YELLOW,
    BatchedGridEnv,
    _view_index,
)
from teachgym.spaces import ParamSpace

__all__ = [
    "NOISY_ROOMS_PARAM_SPACE",
    "BatchedNoisyRooms",
    "BatchedRoomChainEnv",
    "change_probabilities",
]

# The family's constants (teachgym.envs.grids.noisy_rooms), restated: that module imports MiniGrid.
MIN_ROOMS, MAX_ROOMS = 1, 6
MIN_ROOM_SIZE, MAX_ROOM_SIZE = 4, 10
GRID_SIZE = 3 * (MAX_ROOM_SIZE - 1) + 1  # 28: three slots of the largest room per side
DEFAULT_MAX_STEPS = 120
#: How many random walks a row may retry before the chain generator gives up (never in practice:
#: a greedy walk of at most 6 cells on a lattice of at least 3 × 3 slots gets stuck rarely).
_WALK_TRIES = 64
#: Slots per side of the lattice of the smallest rooms: (28 - 1) // (4 - 1).
_MAX_SLOTS = (GRID_SIZE - 1) // (MIN_ROOM_SIZE - 1)
#: Lazy noise's state per cell (``BatchedNoisyRooms``): an int16 ``clock << 3 | colour``, with
#: clocks up to ``_MAX_CLOCK`` and ``_NOT_LIVE_CLOCK`` for the cells that are not live tiles.
_COLOUR_BITS, _COLOUR_MASK = 3, 7
_NOT_LIVE_CLOCK = (1 << 12) - 1
_MAX_CLOCK = _NOT_LIVE_CLOCK - 1
_NOT_LIVE = _NOT_LIVE_CLOCK << _COLOUR_BITS

#: ``NoisyRooms``'s params, restated (the MiniGrid-based module imports MiniGrid).
NOISY_ROOMS_PARAM_SPACE = ParamSpace.from_bounds(
    {
        "num_rooms": (MIN_ROOMS, MAX_ROOMS),
        "room_size": (MIN_ROOM_SIZE, MAX_ROOM_SIZE),
        "noisy_fraction": (0.0, 1.0),
        "noise_prob": (0.0, 1.0),
    },
    defaults={"num_rooms": 3, "room_size": 6, "noisy_fraction": 0.5, "noise_prob": 0.5},
)


def round_half_up(values: torch.Tensor) -> torch.Tensor:
    """The integers continuous params stand for (``2.5 -> 3``), as in the family."""
    return torch.floor(values + 0.5).long()


def change_probabilities(noise_prob: torch.Tensor, width: int) -> torch.Tensor:
    """Probability that a live tile shows another colour ``s`` steps later: ``(k, width)``.

    Entry ``[i, s]`` is ``5/6 · (1 − (1 − 6p/5)^s)`` for ``p = noise_prob[i]``, ``s`` in
    ``0 .. width − 1``: the per-step chain (stay with probability ``1 − p``, else move to one of
    the five other colours uniformly) has transition matrix ``(1 − p)·I + p/5·(J − I)``, whose
    eigenvalues are 1 (the uniform law) and ``1 − 6p/5`` (five times), so its ``s``-th power is
    ``J/6 + (1 − 6p/5)^s·(I − J/6)``: unchanged with probability ``1/6 + 5/6·(1 − 6p/5)^s``, else
    uniform over the five other colours. Computed in float64 (``expm1``/``log1p`` where the
    ratio is positive, accurate for small ``p``), returned as float32.
    """
    prob = noise_prob.to(torch.float64)[:, None]
    steps = torch.arange(width, dtype=torch.float64, device=prob.device)[None, :]
    ratio = 1.0 - 1.2 * prob
    positive = ratio > 0
    gentle = -torch.expm1(steps * torch.log1p(-1.2 * torch.where(positive, prob, 0.0)))
    change = torch.where(positive, gentle, 1.0 - ratio.pow(steps)) * (5.0 / 6.0)
    return change.to(torch.float32)


class BatchedRoomChainEnv(BatchedGridEnv):
    """Base of the batched room-chain families: ``RoomChainGridEnv``'s layout, in batch.

    ``_build_room_chain(k, num_rooms, room_size)`` lays walls and doors, the agent in the first
    room and the goal in the last, and returns the layout tensors for the subclass to add its own
    objects with ``_place_in_room``; ``_write_layout`` stores them. The grid is 28 × 28; cells
    outside every room (empty in the MiniGrid-based env's grid, and never visible since rooms are
    walled) are walls here, so ``load_layouts`` of a MiniGrid-based layout needs those cells
    turned into walls ``(2, 5, 0)`` first.

    **Difference**: the chain is a self-avoiding walk over the lattice of slots, as in the
    MiniGrid-based env, but drawn as a greedy random walk (each step to a uniformly drawn
    unvisited neighbour slot) restarted when it gets stuck, instead of a depth-first search with
    backtracking: the same set of chains, with slightly different probabilities. The random
    stream is not MiniGrid's, so a (seed, params) pair gives another layout than the
    MiniGrid-based env's; ``load_layouts`` replays the MiniGrid-based env's layouts exactly.

    Args:
        num_envs: How many envs, at least 1.
        device: Torch device of every state tensor.
        seed: Seed of the env's ``torch.Generator``; ``None`` seeds it from the OS.
        max_steps: Step budget of every episode (the family's constructor argument), default 120.
    """

    grid_width = GRID_SIZE
    grid_height = GRID_SIZE

    def __init__(
        self,
        num_envs: int,
        *,
        device: Any = "cpu",
        seed: int | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
    ) -> None:
        self.episode_steps = check_int("max_steps", max_steps, minimum=1)
        super().__init__(num_envs, device=device, seed=seed)
        dev = self.device
        self._steps = torch.tensor(DIR_TO_VEC, dtype=torch.long, device=dev)  # (4, 2)

    # ------------------------------------------------------------------ helpers
    def _pick(self, candidates: torch.Tensor) -> torch.Tensor:
        """A uniformly drawn ``True`` column per row of ``candidates`` (the last for an empty
        row). A cumulative count, not an argmax of uniforms: ~4× faster on this CPU build."""
        count = candidates.cumsum(dim=1, dtype=torch.int32)
        rank = (self._rand(len(candidates)) * count[:, -1]).to(torch.int32)
        picked = (count <= rank[:, None]).sum(dim=1)
        return picked.clamp(max=candidates.shape[1] - 1)

    def _random_walk(self, slots: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
        """Self-avoiding walks of ``length`` slots on ``slots × slots`` lattices: ``(k, 6, 2)``.

        Slots past a row's length repeat its last slot. Rows that get stuck start again.
        """
        k = len(slots)
        path = torch.zeros(k, MAX_ROOMS, 2, dtype=torch.long, device=self.device)
        todo = torch.arange(k, device=self.device)
        for _ in range(_WALK_TRIES):
            m = len(todo)
            if m == 0:
                return path
            side, size = slots.index_select(0, todo), length.index_select(0, todo)
            start = (self._rand(m, 2) * side[:, None]).long().clamp(max=side[:, None] - 1)
            walk = [start]
            stuck = torch.zeros(m, dtype=torch.bool, device=self.device)
            for t in range(1, MAX_ROOMS):
                nxt = walk[-1][:, None, :] + self._steps[None]  # (m, 4, 2)
                valid = ((nxt >= 0) & (nxt < side[:, None, None])).all(dim=2)
                for earlier in walk:
                    valid &= ~(nxt == earlier[:, None, :]).all(dim=2)
                choice = self._pick(valid)
                step = torch.gather(nxt, 1, choice.view(m, 1, 1).expand(m, 1, 2)).squeeze(1)
                needed = t < size
                stuck |= needed & ~valid.any(dim=1)
                walk.append(torch.where(needed[:, None], step, walk[-1]))
            path.index_copy_(0, todo, torch.stack(walk, dim=1))
            todo = todo.index_select(0, stuck.nonzero().squeeze(1))
        raise RuntimeError("no self-avoiding chain of rooms found")  # pragma: no cover

    def _build_room_chain(
        self, k: int, num_rooms: torch.Tensor, room_size: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Rooms, doors, agent and goal of ``k`` layouts, as flat ``(k, cells)`` tensors.

        Returns a dict with ``objects``, ``colours``, ``states`` (``(k, cells)`` long),
        ``room_map`` (room index of each interior cell, -1 elsewhere), ``doorway`` (cells next to
        a door), ``agent`` and ``goal`` (flat cell indices).
        """
        dev, size = self.device, GRID_SIZE
        cells = size * size
        stride = room_size - 1
        slots = (size - 1) // stride
        spare = size - (slots * stride + 1) + 1
        offset = (self._rand(k, 2) * spare[:, None]).long().clamp(max=spare[:, None] - 1)
        walk = self._random_walk(slots, num_rooms)  # (k, 6, 2)
        top = offset[:, None, :] + walk * stride[:, None, None]  # (k, 6, 2)
        rooms = torch.arange(MAX_ROOMS, device=dev)[None, :]
        room_valid = rooms < num_rooms[:, None]  # (k, 6)

        # Each cell's slot on the lattice, then the room (if any) the walk put on that slot.
        step = stride[:, None]
        rel_x = self._cell_x[None, :] - offset[:, 0:1]
        rel_y = self._cell_y[None, :] - offset[:, 1:2]
        span = slots[:, None] * step
        inside = (rel_x > 0) & (rel_x < span) & (rel_x % step != 0)
        inside &= (rel_y > 0) & (rel_y < span) & (rel_y % step != 0)
        slot = rel_x.div(step, rounding_mode="floor") * _MAX_SLOTS + rel_y.div(
            step, rounding_mode="floor"
        )
        lattice = _MAX_SLOTS * _MAX_SLOTS
        room_slot = torch.where(room_valid, walk[:, :, 0] * _MAX_SLOTS + walk[:, :, 1], lattice)
        table = torch.full((k, lattice + 1), -1, dtype=torch.long, device=dev)
        table.scatter_(1, room_slot, rooms.expand(k, MAX_ROOMS))
        room_map = torch.gather(table, 1, slot.clamp(0, lattice - 1))
        room_map = torch.where(inside, room_map, -1)
        inside = room_map >= 0
        objects = torch.where(inside, EMPTY, WALL)
        colours = torch.where(inside, 0, GREY)
        states = torch.zeros(k, cells, dtype=torch.long, device=dev)

        # Doors: one per pair of consecutive rooms, on a random non-corner cell of the shared wall.
        along = 1 + (self._rand(k, MAX_ROOMS - 1) * (room_size - 2)[:, None]).long()
        along = torch.minimum(along, (room_size - 2)[:, None])
        before, after = top[:, :-1], top[:, 1:]
        side_by_side = after[:, :, 0] != before[:, :, 0]
        door_x = torch.where(
            side_by_side, torch.maximum(after[:, :, 0], before[:, :, 0]), before[:, :, 0] + along
        )
        door_y = torch.where(
            side_by_side, before[:, :, 1] + along, torch.maximum(after[:, :, 1], before[:, :, 1])
        )
        door_valid = rooms[:, 1:] < num_rooms[:, None]  # door j joins rooms j and j + 1
        door_cell = torch.where(door_valid, door_x * size + door_y, cells)
        # Colours: the first uniform, each next one uniform among the five others.
        shifts = 1 + (self._rand(k, MAX_ROOMS - 1) * (NUM_COLOURS - 1)).long().clamp(max=4)
        shifts[:, 0] = (self._rand(k) * NUM_COLOURS).long().clamp(max=NUM_COLOURS - 1)
        door_colour = shifts.cumsum(dim=1) % NUM_COLOURS
        dump = torch.zeros(k, 1, dtype=torch.long, device=dev)
        objects = torch.cat([objects, dump], dim=1)
        colours = torch.cat([colours, dump], dim=1)
        states = torch.cat([states, dump], dim=1)
        objects.scatter_(1, door_cell, DOOR)
        colours.scatter_(1, door_cell, door_colour)
        states.scatter_(1, door_cell, CLOSED)
        objects, colours, states = objects[:, :cells], colours[:, :cells], states[:, :cells]
        door = (objects == DOOR).view(k, size, size)
        doorway = torch.zeros_like(door)
        doorway[:, 1:] |= door[:, :-1]
        doorway[:, :-1] |= door[:, 1:]
        doorway[:, :, 1:] |= door[:, :, :-1]
        doorway[:, :, :-1] |= door[:, :, 1:]

        agent = self._pick(room_map == 0)
        last = room_map == (num_rooms - 1)[:, None]
        flat = torch.arange(cells, device=dev)[None, :]
        goal = self._pick(last & (flat != agent[:, None]))
        objects = objects.scatter(1, goal[:, None], GOAL)
        colours = colours.scatter(1, goal[:, None], GREEN)
        return {
            "objects": objects,
            "colours": colours,
            "states": states,
            "room_map": room_map,
            "doorway": doorway.view(k, cells),
            "agent": agent,
            "goal": goal,
        }

    def _free_in_room(self, layout: dict[str, torch.Tensor], room: torch.Tensor) -> torch.Tensor:
        """Empty interior cells of room ``room`` (one per row), the agent's excepted."""
        flat = torch.arange(layout["objects"].shape[1], device=self.device)[None, :]
        free = (layout["room_map"] == room[:, None]) & (layout["objects"] == EMPTY)
        return free & (flat != layout["agent"][:, None])

    def _place_in_room(
        self,
        layout: dict[str, torch.Tensor],
        room: torch.Tensor,
        code: int,
        colour: torch.Tensor,
        where: torch.Tensor,
    ) -> None:
        """Put an object on a random free cell of ``room`` in rows ``where``, away from the
        doorways when the room has another free cell (as ``_place_in_room``)."""
        free = self._free_in_room(layout, room)
        away = free & ~layout["doorway"]
        candidates = torch.where(away.any(dim=1, keepdim=True), away, free)
        cell = self._pick(candidates)
        place = where & candidates.any(dim=1)
        objects, colours = layout["objects"], layout["colours"]
        old_object = torch.gather(objects, 1, cell[:, None]).squeeze(1)
        old_colour = torch.gather(colours, 1, cell[:, None]).squeeze(1)
        objects.scatter_(1, cell[:, None], torch.where(place, code, old_object)[:, None])
        colours.scatter_(1, cell[:, None], torch.where(place, colour, old_colour)[:, None])

    def _write_layout(self, index: torch.Tensor, layout: dict[str, torch.Tensor]) -> None:
        """Store ``layout`` (see ``_build_room_chain``) in envs ``index``."""
        k = len(index)
        grid = torch.stack([layout["objects"], layout["colours"], layout["states"]], dim=1)
        self.grid.index_copy_(0, index, grid.to(torch.uint8).view(k, 3, GRID_SIZE, GRID_SIZE))
        agent = layout["agent"]
        agent_xy = torch.stack(
            [self._cell_x.index_select(0, agent), self._cell_y.index_select(0, agent)], dim=1
        )
        self.agent_pos.index_copy_(0, index, agent_xy)
        directions = torch.randint(4, (k,), device=self.device, generator=self.generator)
        self.agent_dir.index_copy_(0, index, directions)
        self.max_steps.index_fill_(0, index, self.episode_steps)


class BatchedNoisyRooms(BatchedRoomChainEnv):
    """``num_envs`` ``NoisyRooms`` envs stepped together as tensors on one device.

    Same ``ParamSpace`` (names, bounds, defaults), action set, observation, reward, termination
    and truncation (``max_steps``, default 120, for every episode), ``return_range`` and mastery
    threshold as the MiniGrid-based family, and its layout rules: ``round(num_rooms)`` rooms of
    outer side ``round(room_size)`` in a chain joined by closed doors (see
    ``BatchedRoomChainEnv``), the agent on a random cell of the first room facing a random
    direction, the goal on a random cell of the last; ``round(noisy_fraction · rooms)`` noisy
    rooms drawn at random, each with a yellow box on a random free cell away from its doorways
    (when the room has another free cell), and every other empty interior cell of a noisy room
    (the agent's included) a floor tile ``(3, colour, 0)`` of a uniformly drawn colour.

    Noise: at every step each *live* floor tile (in a room whose box is still closed) moves with
    probability ``noise_prob`` to one of the five other colours, uniformly. A box cannot be
    picked up; toggling it removes it and freezes its room's floor for the rest of the episode
    (the step that opens it still shows that step's recolouring, as in the family).

    **Lazy noise.** Colours are drawn only where an agent looks: when the observation is made,
    each live tile it shows (a visible floor tile of the view) catches up the ``s`` steps since
    it was last drawn in one draw of the chain's ``s``-step law, unchanged with probability
    ``1/6 + 5/6·(1 − 6p/5)^s`` (``p`` = ``noise_prob``), else uniform over the five other colours
    (see ``change_probabilities``). The chain is Markov and the tiles independent, so this is
    exactly the law of ``s`` single steps: the colours the agents see, over any sequence of
    steps, have the same joint law as with every live tile drawn at every step, for one draw per
    floor tile in sight (~5 per env and step at the centre params, ~21 at the hardest) instead of
    one per live tile (~45 and ~375). One uniform ``u`` per tile drawn: it changes when
    ``u < c`` (``c`` that law's change probability, float32: within 2e-7 of it), by a shift of
    ``1 + min(4, floor(5u / c))`` round the colour wheel.

    What it means for ``grid``: the colour of a live tile is the one it had when last drawn
    (after ``reset``, or after ``sync_noise()``, every tile is up to date and ``grid`` is exactly
    MiniGrid's encoding of the state); ``sync_noise(indices=None)`` draws every live tile up to
    the current step (the same law) and writes the colours into ``grid``, so call it before
    reading ``grid``'s colours; ``render`` calls it for the env it draws. Observations,
    ``final_obs`` included, never need it. Opening a box draws its env's live tiles up to that
    step, then freezes the room. The lazy state is one int16 per cell, ``clock << 3 | colour``
    (the step the tile was last drawn at, counted from a per-env origin restarted every 4094
    steps of a long episode, and its colour), and a per-env table of ``c`` over ``s`` steps.

    **Difference**: the noise is drawn from the env's seeded ``torch.Generator``, not from
    MiniGrid's ``np_random`` (which draws every live tile at every step, in chunks of 32 steps),
    so it cannot match the MiniGrid-based env's noise step for step; the observations have the
    same law. ``_advance_colours`` is the one place colours are drawn (tests compare the
    dynamics with it conditioned on the MiniGrid-based env's colours, and the noise's statistics
    separately). ``load_layouts`` takes the rooms from the grid (the regions walls and doors
    enclose) and makes live every floor tile of a room that still holds a box. See
    ``BatchedRoomChainEnv`` for the chain and the cells outside rooms.

    State: as ``BatchedGridEnv`` (``grid`` ``(num_envs, 3, 28, 28)``, ``params``
    ``(num_envs, 4)``), plus ``room_map`` ``(num_envs, 28 * 28)`` int16 (a room label per
    interior cell, -1 on walls; cells flattened ``x * 28 + y``), ``noise_live``
    ``(num_envs, 28 * 28)`` bool (the floor tiles whose colour still changes); privately, the
    lazy noise's state (``(num_envs, 28 * 28)`` int16, and ``(num_envs, max_steps + 1)``
    float32 change probabilities).
    """

    param_space = NOISY_ROOMS_PARAM_SPACE
    object_codes = (EMPTY, WALL, FLOOR, DOOR, BOX, GOAL)

    def __init__(
        self,
        num_envs: int,
        *,
        device: Any = "cpu",
        seed: int | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
    ) -> None:
        super().__init__(num_envs, device=device, seed=seed, max_steps=max_steps)
        n, dev, cells = self.num_envs, self.device, GRID_SIZE * GRID_SIZE
        self.room_map = torch.full((n, cells), -1, dtype=torch.int16, device=dev)
        self.noise_live = torch.zeros(n, cells, dtype=torch.bool, device=dev)
        # Lazy noise (see the class docstring): per cell, packed in an int16, the step its colour
        # was last drawn at (counted from the env's clock origin) and that colour; each env's
        # change probabilities over s steps (column s).
        self._noise = torch.full((n, cells), _NOT_LIVE, dtype=torch.int16, device=dev)
        self._clock_origin = torch.zeros(n, dtype=torch.long, device=dev)
        self._long_episodes = False
        self._change_prob = torch.zeros(n, self.episode_steps + 1, dtype=torch.float32, device=dev)
        # The cells of the view window (flattened x * 28 + y) per (x, y, direction) of the agent.
        view = _view_index(GRID_SIZE, GRID_SIZE)
        self._view_cells = view.to(device=dev, dtype=torch.int32)
        self._every_cell = torch.arange(cells, dtype=torch.int32, device=dev)
        self._all_envs = torch.arange(n, device=dev)
        self._opening = torch.zeros(n, dtype=torch.bool, device=dev)
        self._opening_room = torch.zeros(n, dtype=torch.int16, device=dev)

    def _generate(self, index: torch.Tensor, params: torch.Tensor) -> None:
        """The family's layout rules (see the class docstring), for ``len(index)`` envs at once."""
        k, dev = len(index), self.device
        num_rooms = round_half_up(params[:, 0])
        room_size = round_half_up(params[:, 1])
        num_noisy = round_half_up(params[:, 2] * num_rooms)
        layout = self._build_room_chain(k, num_rooms, room_size)
        rooms = torch.arange(MAX_ROOMS, device=dev)[None, :]
        # A random subset of num_noisy rooms: the first num_noisy of a random order of the rooms.
        keys = torch.where(rooms < num_rooms[:, None], self._rand(k, MAX_ROOMS), 2.0)
        rank = keys.argsort(dim=1).argsort(dim=1)
        noisy = rank < num_noisy[:, None]  # (k, 6)
        yellow = torch.full((k,), YELLOW, dtype=torch.long, device=dev)
        for room in range(MAX_ROOMS):
            room_index = torch.full((k,), room, dtype=torch.long, device=dev)
            self._place_in_room(layout, room_index, BOX, yellow, noisy[:, room])
        room_map = layout["room_map"]
        in_noisy = torch.gather(noisy, 1, room_map.clamp(min=0)) & (room_map >= 0)
        floor = in_noisy & (layout["objects"] == EMPTY)
        colour = (self._rand(*floor.shape) * NUM_COLOURS).long().clamp(max=NUM_COLOURS - 1)
        layout["objects"] = torch.where(floor, FLOOR, layout["objects"])
        layout["colours"] = torch.where(floor, colour, layout["colours"])
        self._write_layout(index, layout)
        self.room_map.index_copy_(0, index, room_map.to(torch.int16))
        self._start_noise(index, floor)

    def load_layouts(
        self,
        indices: Any,
        grids: Any,
        agent_pos: Any,
        agent_dir: Any,
        max_steps: Any,
        params: Any = None,
        carrying: Any = None,
    ) -> None:
        """``BatchedGridEnv.load_layouts``, then rooms from the grid and live noise (see the
        class docstring)."""
        super().load_layouts(indices, grids, agent_pos, agent_dir, max_steps, params, carrying)
        index = self._check_indices(indices)
        k, cells = len(index), GRID_SIZE * GRID_SIZE
        objects = self.grid.index_select(0, index)[:, 0].reshape(k, cells).long()
        open_cell = (objects != WALL) & (objects != DOOR)
        label = torch.where(open_cell, torch.arange(cells, device=self.device), cells)
        big = torch.full((k, GRID_SIZE, GRID_SIZE), cells, dtype=torch.long, device=self.device)
        while True:  # each open region takes the smallest cell index in it
            grid = label.view(k, GRID_SIZE, GRID_SIZE)
            low = grid.clone()
            low[:, 1:] = torch.minimum(low[:, 1:], grid[:, :-1])
            low[:, :-1] = torch.minimum(low[:, :-1], grid[:, 1:])
            low[:, :, 1:] = torch.minimum(low[:, :, 1:], grid[:, :, :-1])
            low[:, :, :-1] = torch.minimum(low[:, :, :-1], grid[:, :, 1:])
            new = torch.where(open_cell, low.view(k, cells), big.view(k, cells))
            if torch.equal(new, label):
                break
            label = new
        room_map = torch.where(open_cell, label, -1)
        box_label = torch.where(objects == BOX, label, cells)
        has_box = torch.zeros(k, cells + 1, dtype=torch.bool, device=self.device)
        has_box.scatter_(1, box_label, True)
        live = (objects == FLOOR) & torch.gather(has_box, 1, label.clamp(max=cells))
        self.room_map.index_copy_(0, index, room_map.to(torch.int16))
        self._start_noise(index, live)

    def step(
        self, actions: Any
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """``BatchedGridEnv.step``, with the family's boxes: they cannot be picked up (pickup is
        a no-op here, since boxes are the only portable objects), and opening one freezes its
        room's noise (see the class docstring)."""
        actions = self._check_actions(actions)
        n, height = self.num_envs, self.grid_height
        front = self.agent_pos + self._dir_vec.index_select(0, self.agent_dir)
        front_flat = (front[:, 0].clamp(0, self.grid_width - 1) * height).add_(
            front[:, 1].clamp(0, height - 1)
        )
        front_object = torch.gather(self.grid[:, 0].reshape(n, -1), 1, front_flat[:, None])
        self._opening = (actions == TOGGLE) & (front_object.squeeze(1) == BOX)
        self._opening_room = torch.gather(self.room_map, 1, front_flat[:, None]).squeeze(1)
        return super().step(torch.where(actions == PICKUP, DONE, actions))

    def observe(self) -> dict[str, torch.Tensor]:
        """``BatchedGridEnv.observe``, with every live tile the agents see drawn up to the
        current step (see the class docstring)."""
        obs = super().observe()
        n, side = self.num_envs, VIEW_SIZE * VIEW_SIZE
        image = obs["image"].view(-1)
        # The image took its colours from ``grid``, stale on live tiles: draw the floor tiles it
        # shows (unseen cells encode as 0, the agent's own cell shows its hand), as one flat list
        # of (env, view cell) slots ``env * 49 + j`` (~5 per env at the centre params, not 49).
        shown = (obs["image"].view(n, side, 3)[:, :, 0] == FLOOR).view(-1).nonzero().squeeze(1)
        if len(shown) == 0:
            return obs
        envs = shown.div(side, rounding_mode="floor")
        where = (self.agent_pos[:, 0] * GRID_SIZE + self.agent_pos[:, 1]) * 4 + self.agent_dir
        # Row where[env] of the view table, column j: shown + (where[env] - env) * 49.
        slot = shown + ((where - self._all_envs) * side).index_select(0, envs)
        cells = self._view_cells.view(-1).index_select(0, slot)  # flattened x * 28 + y
        flat = cells + envs * (GRID_SIZE * GRID_SIZE)
        packed = self._noise.view(-1).index_select(0, flat)[:, None]
        packed, colours, live = self._draw(envs, cells[:, None], packed)
        self._noise.view(-1).index_copy_(0, flat, packed.view(-1))
        colour_index = shown * 3 + 1
        old = image.index_select(0, colour_index)
        image.index_copy_(0, colour_index, torch.where(live.view(-1), colours.view(-1), old))
        return obs

    def sync_noise(self, indices: Any = None) -> None:
        """Draw every live tile of envs ``indices`` (default: all) up to the current step and
        write the colours into ``grid`` (see the class docstring).

        Raises:
            ValueError: a bad index (see ``set_next_params``); nothing is drawn.
        """
        index = self._all_envs if indices is None else self._check_indices(indices)
        self._sync(index)

    def render(self, index: int = 0) -> np.ndarray:  # type: ignore[override]
        """``BatchedGridEnv.render`` of env ``index``, after ``sync_noise`` of that env."""
        if isinstance(index, int | np.integer) and 0 <= index < self.num_envs:
            self.sync_noise([int(index)])
        return super().render(index)  # which rejects a bad index

    def _sync(self, index: torch.Tensor) -> None:
        """``sync_noise`` of envs ``index`` (checked)."""
        k, cells = len(index), GRID_SIZE * GRID_SIZE
        packed = self._noise.index_select(0, index)
        packed, colours, live = self._draw(index, self._every_cell.expand(k, -1), packed)
        self._noise.index_copy_(0, index, packed)
        plane = self.grid[:, 1].reshape(self.num_envs, cells).index_select(0, index)
        plane = torch.where(live, colours, plane)
        self.grid[:, 1].index_copy_(0, index, plane.view(k, GRID_SIZE, GRID_SIZE))

    def _draw(
        self, rows: torch.Tensor, cells: torch.Tensor, packed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Draw tiles up to their env's current step: ``packed`` ``(k, m)`` is the lazy state
        (``clock << 3 | colour``, see the class docstring) of cells ``cells`` (int32, flattened
        ``x * 28 + y``) of envs ``rows``. Returns the new state, the colours (uint8) and which
        tiles are live."""
        clock = packed >> _COLOUR_BITS
        live = clock != _NOT_LIVE_CLOCK
        now = self.step_count.index_select(0, rows) - self._clock_origin.index_select(0, rows)
        steps = (now.to(torch.int16)[:, None] - clock).clamp_(min=0)  # 0 where not live
        colours = (packed & _COLOUR_MASK).to(torch.uint8)
        colours = self._advance_colours(rows, cells, colours, steps)
        packed = clock.add_(steps).bitwise_left_shift_(_COLOUR_BITS).bitwise_or_(colours)
        return packed, colours, live

    def _advance_colours(
        self, rows: torch.Tensor, cells: torch.Tensor, colours: torch.Tensor, steps: torch.Tensor
    ) -> torch.Tensor:
        """The noise: tile ``j`` of row ``i`` is cell ``cells[i, j]`` (int32, flattened
        ``x * 28 + y``) of env ``rows[i]``, coloured ``colours[i, j]`` (uint8), to be drawn
        ``steps[i, j]`` steps on (int16; 0 where the tile is not live or up to date). Returns its
        colours after them (uint8; one uniform per tile, see the class docstring)."""
        width = self._change_prob.shape[1]
        where = steps + (rows.to(torch.int32) * width)[:, None]
        change = self._change_prob.view(-1).index_select(0, where.view(-1)).view(steps.shape)
        draws = self._rand(*steps.shape)
        changes = draws < change
        # Given a change (draw < c), floor(5 * draw / c) is uniform on 0..4: the shift minus one.
        shift = draws.mul_(NUM_COLOURS - 1).div_(change.clamp_(min=1e-30))
        shift = shift.clamp_(max=NUM_COLOURS - 2).to(torch.uint8)
        # shift + 1 where the tile changes, else 0; then round the wheel. Arithmetic rather than
        # torch.where, which is ~5x slower on uint8 on this CPU build.
        moved = shift.add_(1).mul_(changes).add_(colours)
        return moved.sub_((moved >= NUM_COLOURS).to(torch.uint8).mul_(NUM_COLOURS))

    def _start_noise(self, index: torch.Tensor, live: torch.Tensor) -> None:
        """New episodes in envs ``index``: ``live`` (``(k, cells)`` bool) their live tiles, each
        colour (``grid``'s) drawn at step 0, and their change probabilities tabulated."""
        k, cells = len(index), GRID_SIZE * GRID_SIZE
        self.noise_live.index_copy_(0, index, live)
        colours = self.grid.index_select(0, index)[:, 1].reshape(k, cells).to(torch.int16)
        self._noise.index_copy_(0, index, torch.where(live, colours, _NOT_LIVE))
        self._clock_origin.index_copy_(0, index, self.step_count.index_select(0, index))
        longest = int(self.max_steps.index_select(0, index).max())
        self._long_episodes |= longest >= _MAX_CLOCK
        width = min(longest, _MAX_CLOCK) + 1
        if width > self._change_prob.shape[1]:  # a longer episode: widen every env's table
            self._change_prob = change_probabilities(self.params[:, 3], width)
        else:
            table = change_probabilities(self.params.index_select(0, index)[:, 3], width)
            self._change_prob[:, :width].index_copy_(0, index, table)

    def _after_step(
        self, actions: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self._long_episodes:  # keep clocks below 2**12: restart them every 4094 steps
            late = (self.step_count - self._clock_origin) >= _MAX_CLOCK
            if bool(late.any()):
                self._restart_clocks(late.nonzero().squeeze(1))
        if bool(self._opening.any()):  # the opened box's room stops, after this step's noise
            opening = self._opening.nonzero().squeeze(1)
            self._sync(opening)
            rooms = self._opening_room.index_select(0, opening)
            frozen = self.room_map.index_select(0, opening) == rooms[:, None]
            live = self.noise_live.index_select(0, opening) & ~frozen
            self.noise_live.index_copy_(0, opening, live)
            packed = self._noise.index_select(0, opening)
            self._noise.index_copy_(0, opening, torch.where(frozen, _NOT_LIVE, packed))
        return reward, terminated

    def _restart_clocks(self, index: torch.Tensor) -> None:
        """Draw every live tile of envs ``index`` up to now, and make now their clocks' origin."""
        self._sync(index)
        packed = self._noise.index_select(0, index)
        live = (packed >> _COLOUR_BITS) != _NOT_LIVE_CLOCK
        self._noise.index_copy_(0, index, torch.where(live, packed & _COLOUR_MASK, packed))
        self._clock_origin.index_copy_(0, index, self.step_count.index_select(0, index))
