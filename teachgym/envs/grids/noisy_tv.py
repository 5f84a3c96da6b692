"""NoisyTVRooms: MiniGrid room chains with "noisy TV" balls the agent can re-colour at will.

The noisy-TV problem (Burda et al. 2019; Raileanu & Rocktäschel 2020, "RIDE: Rewarding
Impact-Driven Exploration for Procedurally-Generated Environments", ICLR, MultiRoomNoisyTV):
a source of unpredictable observations under the agent's control traps curiosity methods that
reward prediction error, since pressing the button always yields a "novel" frame. Here the
source is a ball whose colour changes at random whenever the agent takes MiniGrid's ``done``
action, which MiniGrid otherwise ignores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigrid.core.actions import Actions
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Ball

from teachgym.envs.grids.noisy_rooms import (
    MAX_ROOM_SIZE,
    MAX_ROOMS,
    MIN_ROOM_SIZE,
    MIN_ROOMS,
    RoomChainGridEnv,
    round_half_up,
    traverse_mission,
)
from teachgym.spaces import ParamSpace

__all__ = ["MAX_TVS", "TV_ACTION", "NoisyTVRooms", "NoisyTVRoomsLayout"]

MAX_TVS = 3
#: The action that switches the TVs: MiniGrid's ``done`` (6), a no-op in MiniGrid otherwise.
TV_ACTION = Actions.done
_NUM_COLORS = len(COLOR_NAMES)
_COLOR_POSITION = {color: k for k, color in enumerate(COLOR_NAMES)}


@dataclass(frozen=True)
class NoisyTVRoomsLayout:
    """What the params of one ``NoisyTVRooms`` episode turned into.

    Attributes:
        num_rooms: Rooms in the chain.
        room_size: Outer side of every room, walls included.
        num_tvs: TV balls asked for (``round(num_tvs)``).
        tv_rooms: Index of the room of each TV ball actually placed (fewer than ``num_tvs`` when
            tiny rooms are full; see the card).
    """

    num_rooms: int
    room_size: int
    num_tvs: int
    tv_rooms: tuple[int, ...]


class NoisyTVRooms(RoomChainGridEnv):
    """A chain of rooms to cross, with balls that change colour whenever the agent asks.

    ## Description

    The agent starts in the first of a chain of square rooms joined by closed doors and must
    reach the green goal in the last room, as in MiniGrid's ``MultiRoom``. Some rooms hold a
    *TV*: a ball that, every time the agent takes the ``done`` action (6), changes to one of the
    five other MiniGrid colours, chosen uniformly with the env's seeded generator. Every TV
    changes at once, wherever it is — in view, out of view or carried. The family is modelled on
    the MultiRoomNoisyTV env of Raileanu & Rocktäschel (2020, RIDE): an agent rewarded for
    prediction error can farm reward by switching the TV instead of exploring, while the task
    reward ignores it entirely.

    ## Parameters

    | name            | range   | harder when larger                   | impossible |
    |-----------------|---------|--------------------------------------|------------|
    | ``num_rooms``   | [1, 6]  | one more door and room to cross each | never      |
    | ``room_size``   | [4, 10] | longer paths, doors harder to find   | never      |
    | ``num_tvs``     | [0, 3]  | more TVs to distract a curious agent | never      |

    How each maps to the layout (rounding is half-up):

    - ``num_rooms``: ``round(num_rooms)`` rooms, laid as a random self-avoiding chain on a
      lattice of slots; consecutive rooms share a wall with a closed, unlocked door in it.
    - ``room_size``: ``round(room_size)`` is the outer side of every room, walls included (a
      ``4`` room has a 2 × 2 interior), as in MiniGrid's ``MultiRoom``.
    - ``num_tvs``: ``round(num_tvs)`` balls; ball ``k`` goes in room ``k mod rooms`` (so the
      first TV is always in the agent's starting room, where it is seen first), on a random
      free cell away from the doorways when there is one. A TV is skipped when its room has
      fewer than two free cells left (a lone 4 × 4 room takes at most one), so a room never fills
      up. ``self.layout.tv_rooms`` lists the TVs actually placed.

    Where the family is trivial or hard (measured over 100-200 seeds; the TVs change neither):

    - Trivial: ``num_rooms=1, room_size=4``: a random policy reaches the goal in ~85% of
      episodes (~17% with ``room_size=10``, ~12% with two rooms of size 4, 0% from three rooms
      of size 7 on).
    - Hard: ``num_rooms=6, room_size=10``: an optimal policy needs 66 steps on average and at
      most ~85 of the 120 allowed; a random policy never succeeds.
    - Impossible: nowhere with the default ``max_steps=120``; a TV never blocks the way for
      good, since balls can be picked up and are placed away from doorways.

    Defaults (for partial dicts): ``num_rooms=3, room_size=6, num_tvs=1``.

    ## Action Space

    ``Discrete(7)``, MiniGrid's actions: 0 left, 1 right, 2 forward, 3 pickup, 4 drop, 5 toggle
    (opens doors), 6 done: switches every TV to a new random colour, nothing else.

    ## Observation Space

    MiniGrid's ``Dict``: ``image`` ``Box(0, 255, (7, 7, 3), uint8)`` (the agent's egocentric
    view encoded as ``(object, colour, state)`` per cell; a TV reads ``(6, colour, 0)`` like any
    ball), ``direction`` ``Discrete(4)`` and ``mission`` (the fixed string "traverse the rooms
    to get to the goal").

    ## Rewards

    ``1 - 0.9 * step_count / max_steps`` when the agent steps onto the goal, else 0. Return
    range [0, 1]; an episode is mastered when the goal is reached at all (return > 0).

    ## Starting State

    A random cell and direction in the first room. Room positions, doors and their colours, the
    goal, the TV cells and colours come from the env's seeded ``np_random``, so an episode is a
    function of (seed, params, actions).

    ## Episode End

    Terminated when the agent reaches the goal. Truncated after ``max_steps`` steps (MiniGrid's
    own limit; the registered id adds no ``TimeLimit``).

    ## Snapshots

    ``get_state()`` / ``set_state(state)`` restore the layout, the TV balls (the same objects on
    the grid and in ``self.tv_balls``), what the agent carries, the step count and the RNG, so
    the TV's next colours repeat after a restore.

    ## Version History

    - v0: first version.
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
                "num_tvs": (0, MAX_TVS),
            },
            defaults={"num_rooms": 3, "room_size": 6, "num_tvs": 1},
        )
        # Episode state lives in instance attributes so get_state()/set_state() copy it.
        self.tv_balls: list[Ball] = []
        self.layout = NoisyTVRoomsLayout(0, 0, 0, ())
        super().__init__(space, MissionSpace(mission_func=traverse_mission), max_steps, **kwargs)

    def _gen_grid(self, width: int, height: int) -> None:
        params = self.params_dict
        num_rooms = round_half_up(params["num_rooms"])
        room_size = round_half_up(params["room_size"])
        num_tvs = round_half_up(params["num_tvs"])

        self._build_room_chain(num_rooms, room_size)
        self.mission = traverse_mission()

        self.tv_balls = []
        tv_rooms = []
        for k in range(num_tvs):
            room_index = k % num_rooms
            if len(self._free_cells(self.rooms[room_index])) < 2:
                continue
            ball = Ball(self._rand_color())
            self._place_in_room(ball, self.rooms[room_index])
            self.tv_balls.append(ball)
            tv_rooms.append(room_index)
        self.layout = NoisyTVRoomsLayout(num_rooms, room_size, num_tvs, tuple(tv_rooms))

    def _before_action(self, action: int) -> None:
        if action == TV_ACTION and self.tv_balls:
            # One draw for all TVs: each moves 1-5 places round the colour wheel, i.e. to a
            # uniformly chosen *different* colour, so every press visibly changes every TV.
            shifts = self.np_random.integers(1, _NUM_COLORS, size=len(self.tv_balls)).tolist()
            for ball, shift in zip(self.tv_balls, shifts, strict=True):
                ball.color = COLOR_NAMES[(_COLOR_POSITION[ball.color] + shift) % _NUM_COLORS]
