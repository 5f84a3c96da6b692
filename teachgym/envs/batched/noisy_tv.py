"""``BatchedNoisyTVRooms``: ``num_envs`` copies of ``NoisyTVRooms`` as a few torch tensors.

The card of the family is ``teachgym.envs.grids.noisy_tv.NoisyTVRooms``; this module is the same
family stepped in batch on one device, without MiniGrid. The room chain is
``teachgym.envs.batched.noisy_rooms.BatchedRoomChainEnv``'s; the dynamics, observation,
autoreset and per-env params are ``teachgym.envs.batched.base.BatchedGridEnv``'s.
"""

from __future__ import annotations

import torch

from teachgym.envs.batched.base import BALL, DONE, DOOR, EMPTY, GOAL, NUM_COLOURS, WALL
from teachgym.envs.batched.noisy_rooms import (
    GRID_SIZE,
    MAX_ROOM_SIZE,
    MAX_ROOMS,
    MIN_ROOM_SIZE,
    MIN_ROOMS,
    BatchedRoomChainEnv,
    round_half_up,
)
from teachgym.spaces import ParamSpace

__all__ = ["MAX_TVS", "NOISY_TV_ROOMS_PARAM_SPACE", "TV_ACTION", "BatchedNoisyTVRooms"]

MAX_TVS = 3
#: The action that switches the TVs: MiniGrid's ``done`` (6).
TV_ACTION = DONE

#: ``NoisyTVRooms``'s params, restated (the MiniGrid-based module imports MiniGrid).
NOISY_TV_ROOMS_PARAM_SPACE = ParamSpace.from_bounds(
    {
        "num_rooms": (MIN_ROOMS, MAX_ROOMS),
        "room_size": (MIN_ROOM_SIZE, MAX_ROOM_SIZE),
        "num_tvs": (0, MAX_TVS),
    },
    defaults={"num_rooms": 3, "room_size": 6, "num_tvs": 1},
)


class BatchedNoisyTVRooms(BatchedRoomChainEnv):
    """``num_envs`` ``NoisyTVRooms`` envs stepped together as tensors on one device.

    Same ``ParamSpace`` (names, bounds, defaults), action set, observation, reward, termination
    and truncation (``max_steps``, default 120, for every episode), ``return_range`` and mastery
    threshold as the MiniGrid-based family, and its layout rules: the room chain of
    ``BatchedRoomChainEnv``; then for ``k = 0 … round(num_tvs) − 1`` a ball (the TV) of a
    uniformly drawn colour in room ``k mod rooms``, on a random free cell away from the doorways
    when the room has another, skipped when the room has fewer than two free cells (the agent's
    excepted).

    The TVs: every ``done`` action (6) moves every ball of the env — on the grid or carried — to
    one of the five other colours, uniformly and independently; nothing else changes a ball's
    colour, and ``done`` does nothing else. Balls are the only portable objects of the family, so
    every ball is a TV, wherever the agent puts it.

    **Difference**: the colours are drawn from the env's seeded ``torch.Generator``, not
    MiniGrid's ``np_random``, so they cannot match the MiniGrid-based env's step for step; their
    law is the same (tests compare the dynamics with the colours conditioned on the
    MiniGrid-based env's, and the colour changes' statistics separately). See
    ``BatchedRoomChainEnv`` for the chain and the cells outside rooms.

    State: as ``BatchedGridEnv``, with ``grid`` ``(num_envs, 3, 28, 28)`` and ``params``
    ``(num_envs, 3)``.
    """

    param_space = NOISY_TV_ROOMS_PARAM_SPACE
    object_codes = (EMPTY, WALL, DOOR, BALL, GOAL)

    def _generate(self, index: torch.Tensor, params: torch.Tensor) -> None:
        """The family's layout rules (see the class docstring), for ``len(index)`` envs at once."""
        k, dev = len(index), self.device
        num_rooms = round_half_up(params[:, 0])
        room_size = round_half_up(params[:, 1])
        num_tvs = round_half_up(params[:, 2])
        layout = self._build_room_chain(k, num_rooms, room_size)
        for tv in range(MAX_TVS):
            room = tv % num_rooms
            roomy = self._free_in_room(layout, room).sum(dim=1) >= 2
            colour = (self._rand(k) * NUM_COLOURS).long().clamp(max=NUM_COLOURS - 1)
            place = (tv < num_tvs) & roomy
            self._place_in_room(layout, room, BALL, colour.to(dev), place)
        self._write_layout(index, layout)

    def _switch_tvs(
        self, envs: torch.Tensor, cells: torch.Tensor, colours: torch.Tensor
    ) -> torch.Tensor:
        """One ``done`` for a flat list of TVs: TV ``t`` is in env ``envs[t]`` at cell
        ``cells[t]`` (flattened ``x * 28 + y``; -1 when carried), coloured ``colours[t]``
        (uint8); returns their colours after it, each moved 1–5 places round the wheel."""
        shift = (self._rand(len(envs)) * (NUM_COLOURS - 1)).clamp_(max=4).to(torch.uint8)
        moved = colours + shift + 1
        return torch.where(moved >= NUM_COLOURS, moved - NUM_COLOURS, moved)

    def _after_step(
        self, actions: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        pressed = actions == TV_ACTION
        if not bool(pressed.any()):
            return reward, terminated
        cells = GRID_SIZE * GRID_SIZE
        # The balls of the envs that pressed, as one flat list: index ops on it only. Only those
        # envs' object planes are scanned (a seventh of the batch under random actions).
        pressers = pressed.nonzero().squeeze(1)
        objects = self.grid.index_select(0, pressers)[:, 0].reshape(len(pressers), cells)
        tiles = (objects == BALL).view(-1).nonzero().squeeze(1)  # presser * cells + cell
        tile_envs = pressers.index_select(0, tiles.div(cells, rounding_mode="floor"))
        tile_cells = tiles % cells
        held = (pressed & (self.carrying[:, 0] == BALL)).nonzero().squeeze(1)
        envs = torch.cat([tile_envs, held])
        cell = torch.cat([tile_cells, torch.full_like(held, -1)])
        where = tile_envs * (3 * cells) + cells + tile_cells
        grid, hand = self.grid.view(-1), self.carrying.view(-1)
        colours = torch.cat([grid.index_select(0, where), hand.index_select(0, held * 3 + 1)])
        new = self._switch_tvs(envs, cell, colours).to(torch.uint8)
        grid.index_copy_(0, where, new[: len(tiles)])
        hand.index_copy_(0, held * 3 + 1, new[len(tiles) :])
        return reward, terminated
