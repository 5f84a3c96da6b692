"""``BatchedGridNavigation``: ``num_envs`` copies of ``GridNavigation`` as a few torch tensors.

The card of the family is ``teachgym.envs.grids.grid_navigation.GridNavigation``; this module is
the same family stepped in batch on one device (CPU or GPU), without MiniGrid. The dynamics,
observation, autoreset (Gymnasium's ``same_step``) and per-env params are
``teachgym.envs.batched.base.BatchedGridEnv``'s; what is specific to the family:

- **Params**: the same ``ParamSpace`` (names, bounds, defaults), restated here so this module does
  not import MiniGrid; ``tests/envs/test_batched_grid_navigation.py`` checks the two are equal.
- **Layouts**: generated in batch from a seeded ``torch.Generator`` by the family's rules (room
  side ``n``, distance ``D``, the kept random staircase, wall and lava counts from the densities,
  the sealed lava ring from ``lava_density >= 0.5``, ``max_steps = 4 n²``). The rules are the
  same; the random stream is not MiniGrid's, so a (seed, params) pair gives a different (equally
  distributed) layout from the MiniGrid-based env. ``load_layouts`` takes layouts from elsewhere
  (e.g. the MiniGrid-based env) for step-for-step conformance tests.
- **Dynamics**: only walls, goal and lava occur, so only 0 (left), 1 (right) and 2 (forward)
  change anything.

The grid is stored as MiniGrid's encoding of a 15 × 15 grid, channel first:
``grid[env, :, x, y] = (object, colour, state)``; a room smaller than 15 sits in the top-left
corner and the rest is wall.
"""

from __future__ import annotations

from typing import Any

import torch

from teachgym.envs.batched.base import (
    EMPTY,
    GOAL,
    GREEN,
    GREY,
    LAVA,
    OPEN,
    RED,
    WALL,
    BatchedGridEnv,
)
from teachgym.spaces import ParamSpace

__all__ = ["GRID_NAVIGATION_PARAM_SPACE", "BatchedGridNavigation"]

GRID_SIZE = 15  # MAX_ROOM_SIZE of the family: every layout is padded to it with walls
MIN_ROOM_SIZE = 5
SEALED_LAVA_DENSITY = 0.5
STEPS_PER_CELL = 4
MAX_PATH = 2 * 2 * (GRID_SIZE - 3)  # moves of the longest staircase, with room to spare

#: ``GridNavigation``'s params, restated (the MiniGrid-based module imports MiniGrid).
GRID_NAVIGATION_PARAM_SPACE = ParamSpace.from_bounds(
    {
        "room_size": (float(MIN_ROOM_SIZE), float(GRID_SIZE)),
        "goal_distance": (0.0, 1.0),
        "wall_density": (0.0, 0.5),
        "lava_density": (0.0, 0.6),
    },
    defaults={"room_size": 9.0, "goal_distance": 0.5, "wall_density": 0.1, "lava_density": 0.1},
)


class BatchedGridNavigation(BatchedGridEnv):
    """``num_envs`` ``GridNavigation`` envs stepped together as tensors on one device.

    See the module docstring for what matches the MiniGrid-based family and what differs, and
    ``BatchedGridEnv`` for the state tensors (``grid`` is ``(num_envs, 3, 15, 15)``, ``params``
    ``(num_envs, 4)``).

    Args:
        num_envs: How many envs, at least 1.
        device: Torch device of every state tensor (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …).
        seed: Seed of the env's ``torch.Generator`` (layouts and uniform param draws); ``None``
            seeds it from the OS. ``reset(seed=...)`` reseeds it.
    """

    param_space = GRID_NAVIGATION_PARAM_SPACE
    grid_width = GRID_SIZE
    grid_height = GRID_SIZE
    object_codes = (EMPTY, WALL, GOAL, LAVA)

    def __init__(self, num_envs: int, *, device: Any = "cpu", seed: int | None = None) -> None:
        super().__init__(num_envs, device=device, seed=seed)
        colour = torch.zeros(16, dtype=torch.uint8)
        colour[WALL], colour[GOAL], colour[LAVA] = GREY, GREEN, RED
        self._colour_of = colour.to(self.device)
        # Tables of what depends only on the room side or on a cell, looked up per reset instead
        # of recomputed on (k, 225) int64 tensors (resets happen at every step of a batch).
        x, y = self._cell_x.cpu(), self._cell_y.cpu()
        side = torch.arange(GRID_SIZE + 1)[:, None]  # (side, 1): row ``n`` is a room of side n
        #: ``[side, cell]``: the cell is inside a room of that side.
        self._interior = ((x >= 1) & (x <= side - 2) & (y >= 1) & (y <= side - 2)).to(self.device)
        #: ``[side, cell]``: Manhattan distance from the cell to the room's farthest corner.
        farthest = torch.maximum(x - 1, side - 2 - x) + torch.maximum(y - 1, side - 2 - y)
        self._farthest = farthest.clamp(min=0).to(device=self.device, dtype=torch.uint8)
        #: ``[cell, cell]``: Manhattan distances between cells.
        between = (x[:, None] - x[None, :]).abs() + (y[:, None] - y[None, :]).abs()
        self._between = between.to(device=self.device, dtype=torch.uint8)

    # ------------------------------------------------------------------ generation
    def _generate(self, index: torch.Tensor, params: torch.Tensor) -> None:
        """The family's layout rules (see ``GridNavigation``), for ``len(index)`` envs at once."""
        k, dev = len(index), self.device
        cells = GRID_SIZE * GRID_SIZE

        def nearest(value: torch.Tensor) -> torch.Tensor:  # halves round up, as the family's
            return torch.floor(value + 0.5).long()

        size = nearest(params[:, 0])[:, None]  # (k, 1)
        sealed = params[:, 3] >= SEALED_LAVA_DENSITY
        longest = 2 * (size - 3)
        distance = torch.minimum(nearest(params[:, 1, None] * longest).clamp(min=1), longest)
        distance = torch.where(sealed[:, None], distance.clamp(min=2), distance)
        interior = self._interior.index_select(0, size[:, 0])  # (k, cells)

        def pick(candidates: torch.Tensor) -> torch.Tensor:  # a uniform candidate per row
            keys = torch.where(candidates, self._rand(k, cells), -1.0)
            return keys.argmax(dim=1)

        agent = pick(interior & (self._farthest.index_select(0, size[:, 0]) >= distance))
        agent_x = self._cell_x.index_select(0, agent)[:, None]
        agent_y = self._cell_y.index_select(0, agent)[:, None]
        goal = pick(interior & (self._between.index_select(0, agent) == distance))
        goal_x = self._cell_x.index_select(0, goal)[:, None]
        goal_y = self._cell_y.index_select(0, goal)[:, None]
        ring = sealed[:, None] & interior & (self._between.index_select(0, goal) == 1)

        # The kept path: a random order of the |dx| x-moves and |dy| y-moves (a staircase).
        dx, dy = goal_x - agent_x, goal_y - agent_y
        num_moves = dx.abs() + dy.abs()
        slot = torch.arange(MAX_PATH, device=dev)[None, :]
        order = torch.where(slot < num_moves, self._rand(k, MAX_PATH), 2.0).argsort(dim=1)
        valid = slot < num_moves
        is_x = (order < dx.abs()) & valid
        is_y = ~is_x & valid
        path_x = agent_x + dx.sign() * is_x.long().cumsum(dim=1)
        path_y = agent_y + dy.sign() * is_y.long().cumsum(dim=1)
        on_path = (slot < num_moves - 1) & ~sealed[:, None]  # the goal itself is not path
        path_cell = torch.where(
            on_path,
            path_x.clamp(0, GRID_SIZE - 1) * GRID_SIZE + path_y.clamp(0, GRID_SIZE - 1),
            cells,
        )
        kept = torch.zeros(k, cells + 1, dtype=torch.bool, device=dev)
        kept.scatter_(1, path_cell, True)
        kept = kept[:, :cells]
        kept.scatter_(1, agent[:, None], True)
        kept.scatter_(1, goal[:, None], True)

        free = interior & ~kept & ~ring
        num_free = free.sum(dim=1).double()
        num_walls = nearest(params[:, 2] * num_free)
        num_lava = torch.minimum(nearest(params[:, 3] * num_free), num_free.long() - num_walls)
        order = torch.where(free, self._rand(k, cells), 2.0).argsort(dim=1)
        # The inverse permutation by a scatter, not a second argsort (the same ranks, ~2× faster).
        rank = torch.empty_like(order).scatter_(
            1, order, torch.arange(cells, device=dev).expand(k, cells)
        )
        walls = free & (rank < num_walls[:, None])
        lava = free & (rank >= num_walls[:, None]) & (rank < (num_walls + num_lava)[:, None])

        codes = torch.full((k, cells), WALL, dtype=torch.long, device=dev)
        codes = torch.where(interior & ~walls, EMPTY, codes)
        codes = torch.where(lava | ring, LAVA, codes)
        codes.scatter_(1, goal[:, None], GOAL)
        colours = self._colour_of.index_select(0, codes.view(-1)).view(k, cells)
        objects = codes.to(torch.uint8)
        grid = torch.stack([objects, colours, torch.full_like(objects, OPEN)], dim=1)
        self.grid.index_copy_(0, index, grid.view(k, 3, GRID_SIZE, GRID_SIZE))
        self.agent_pos.index_copy_(0, index, torch.stack([agent_x[:, 0], agent_y[:, 0]], dim=1))
        directions = torch.randint(4, (k,), device=dev, generator=self.generator)
        self.agent_dir.index_copy_(0, index, directions)
        self.max_steps.index_copy_(0, index, STEPS_PER_CELL * size[:, 0] ** 2)
