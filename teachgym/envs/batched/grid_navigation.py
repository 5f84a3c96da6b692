"""``BatchedGridNavigation``: ``num_envs`` copies of ``GridNavigation`` as a few torch tensors.

The card of the family is ``teachgym.envs.grids.grid_navigation.GridNavigation``; this module is
the same family stepped in batch on one device (CPU or GPU), without MiniGrid. What is the same
and what differs:

- **Params**: the same ``ParamSpace`` (names, bounds, defaults), restated here so this module does
  not import MiniGrid; ``tests/envs/test_batched_grid_navigation.py`` checks the two are equal.
- **Layouts**: generated in batch from a seeded ``torch.Generator`` by the family's rules (room
  side ``n``, distance ``D``, the kept random staircase, wall and lava counts from the densities,
  the sealed lava ring from ``lava_density >= 0.5``, ``max_steps = 4 n²``). The rules are the
  same; the random stream is not MiniGrid's, so a (seed, params) pair gives a different (equally
  distributed) layout from the MiniGrid-based env. ``load_layouts`` takes layouts from elsewhere
  (e.g. the MiniGrid-based env) for step-for-step conformance tests.
- **Dynamics**: MiniGrid's 7 actions; only 0 (left), 1 (right) and 2 (forward) change anything.
  Walls block, lava terminates with reward 0, the goal terminates with reward
  ``1 - 0.9 * step_count / max_steps``; truncated when ``step_count >= max_steps`` (both flags can
  be true on the same step, as in MiniGrid).
- **Observation**: a dict of tensors: ``image`` ``(num_envs, 7, 7, 3)`` uint8 — MiniGrid's
  default egocentric view, indexed ``[column, row, channel]`` as ``Grid.encode`` is, the agent at
  column 3 of the bottom row 6, cells outside the grid seen as walls — and ``direction``
  ``(num_envs,)`` int64. Visibility is MiniGrid's ``Grid.process_vis`` rule (walls are opaque; a
  cell is seen when light spreads to it row by row from the agent through see-through cells),
  cells not seen encode as ``(0, 0, 0)``. There is no ``mission`` text (it is a constant).
- **Autoreset**: Gymnasium's ``same_step`` mode. The step on which an env's episode ends returns
  the *next* episode's first observation for that env; the finished episode's last observation
  is in ``info["final_obs"]`` (a full batch, meaningful where ``info["_final_obs"]`` is true),
  its params in ``info["final_params"]``. Rewards, ``terminated`` and ``truncated`` are those of
  the finished step.
- **Params per env**: ``set_next_params(indices, params)`` fills a pending slot per env, used (and
  emptied) by that env's next reset; envs with an empty slot draw params uniformly from the
  generator. ``info["params"]`` holds each env's current episode params.

The grid is stored as MiniGrid's encoding of a 15 × 15 grid, channel first:
``grid[env, :, x, y] = (object, colour, state)``; a room smaller than 15 sits in the top-left
corner and the rest is wall. The step and the observation read the object channel and derive
colour (and state, always 0) from it, as every object of this family has one colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from teachgym.checks import check_int
from teachgym.spaces import ParamSpace

__all__ = ["GRID_NAVIGATION_PARAM_SPACE", "BatchedGridNavigation"]

# MiniGrid's constants (minigrid.core.constants), copied so that MiniGrid is not imported.
# OBJECT_TO_IDX:
UNSEEN, EMPTY, WALL, GOAL, LAVA = 0, 1, 2, 8, 9
# COLOR_TO_IDX: the colour each object encodes with (Wall: grey, Goal: green, Lava: red).
RED, GREEN, GREY = 0, 1, 5
# STATE_TO_IDX["open"]: the state every object here encodes with.
OPEN = 0
# DIR_TO_VEC: direction 0 faces +x, 1 faces +y, 2 faces -x, 3 faces -y.
DIR_TO_VEC = ((1, 0), (0, 1), (-1, 0), (0, -1))
# Actions: MiniGrid's Actions.left, right, forward (pickup, drop, toggle, done do nothing here).
LEFT, RIGHT, FORWARD = 0, 1, 2
NUM_ACTIONS = 7

GRID_SIZE = 15  # MAX_ROOM_SIZE of the family: every layout is padded to it with walls
VIEW_SIZE = 7  # MiniGrid's default agent_view_size
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


def _resolve_device(device: Any) -> torch.device:
    if not isinstance(device, str | torch.device):
        raise ValueError(f"device must be a string such as 'cpu' or 'cuda:0'; got {device!r}")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"device must be a torch device string such as 'cpu' or 'cuda:0'; got {device!r}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asks for CUDA, which is not available here")
    return resolved


def _view_offsets() -> tuple[torch.Tensor, torch.Tensor]:
    """Offsets ``[direction, column, row]`` from the agent to the grid cell each view cell shows."""
    offset_x = torch.zeros(4, VIEW_SIZE, VIEW_SIZE, dtype=torch.long)
    offset_y = torch.zeros_like(offset_x)
    half = VIEW_SIZE // 2
    for direction, (forward_x, forward_y) in enumerate(DIR_TO_VEC):
        right_x, right_y = -forward_y, forward_x
        for row in range(VIEW_SIZE):  # row 0 is the farthest ahead, row 6 the agent's
            ahead = VIEW_SIZE - 1 - row
            for column in range(VIEW_SIZE):
                side = column - half
                offset_x[direction, column, row] = forward_x * ahead + right_x * side
                offset_y[direction, column, row] = forward_y * ahead + right_y * side
    return offset_x, offset_y


def _process_vis(transparent: torch.Tensor) -> torch.Tensor:
    """MiniGrid's ``Grid.process_vis`` for a batch of views, ``[env, column, row]``.

    Rows are visited from the agent's (the bottom) up; in each row light spreads left to right,
    then right to left, through see-through cells, and each lit see-through cell lights the cells
    above it and diagonally above (on the side of the pass), exactly as MiniGrid's loops do.
    """
    size = transparent.shape[1]
    false = torch.zeros_like(transparent[:, 0, 0])
    lit = [false] * size
    lit[size // 2] = ~false
    rows = []
    for row in range(size - 1, -1, -1):
        see = [transparent[:, column, row] for column in range(size)]
        for column in range(size - 1):  # left to right
            lit[column + 1] = lit[column + 1] | (lit[column] & see[column])
        from_left = [lit[column] & see[column] for column in range(size - 1)]
        for column in range(size - 1, 0, -1):  # right to left
            lit[column - 1] = lit[column - 1] | (lit[column] & see[column])
        from_right = [false] + [lit[column] & see[column] for column in range(1, size)]
        rows.append(torch.stack(lit, dim=1))
        above = []
        for column in range(size):
            spread = from_right[column]
            if column < size - 1:
                spread = spread | from_left[column] | from_right[column + 1]
            if column > 0:
                spread = spread | from_left[column - 1]
            above.append(spread)
        lit = above
    rows.reverse()
    return torch.stack(rows, dim=2)


class BatchedGridNavigation:
    """``num_envs`` ``GridNavigation`` envs stepped together as tensors on one device.

    See the module docstring for what matches the MiniGrid-based family and what differs.

    Args:
        num_envs: How many envs, at least 1.
        device: Torch device of every state tensor (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …).
        seed: Seed of the env's ``torch.Generator`` (layouts and uniform param draws); ``None``
            seeds it from the OS. ``reset(seed=...)`` reseeds it.

    Attributes (state, all of shape ``(num_envs, …)`` on ``device``):
        grid: ``(num_envs, 3, 15, 15)`` uint8, MiniGrid's ``(object, colour, state)`` codes,
            ``[env, channel, x, y]``.
        agent_pos: ``(num_envs, 2)`` int64, ``(x, y)``.
        agent_dir: ``(num_envs,)`` int64 in 0..3.
        step_count: ``(num_envs,)`` int64, steps taken in the current episode.
        max_steps: ``(num_envs,)`` int64, the current episode's step limit.
        params: ``(num_envs, 4)`` float64, the current episode's params.
        pending_params: ``(num_envs, 4)`` float64, the pending slot (valid where
            ``has_pending`` is true).
        has_pending: ``(num_envs,)`` bool.
    """

    param_space = GRID_NAVIGATION_PARAM_SPACE
    return_range = (0.0, 1.0)
    mastery_threshold = 0.0
    num_actions = NUM_ACTIONS

    def __init__(self, num_envs: int, *, device: Any = "cpu", seed: int | None = None) -> None:
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.device = _resolve_device(device)
        self.generator = torch.Generator(device=self.device)
        self._seed(seed)
        n, dev = self.num_envs, self.device
        self.grid = torch.zeros(n, 3, GRID_SIZE, GRID_SIZE, dtype=torch.uint8, device=dev)
        self.agent_pos = torch.ones(n, 2, dtype=torch.long, device=dev)
        self.agent_dir = torch.zeros(n, dtype=torch.long, device=dev)
        self.step_count = torch.zeros(n, dtype=torch.long, device=dev)
        self.max_steps = torch.ones(n, dtype=torch.long, device=dev)
        dim = self.param_space.dim
        self.params = torch.zeros(n, dim, dtype=torch.float64, device=dev)
        self.pending_params = torch.zeros(n, dim, dtype=torch.float64, device=dev)
        self.has_pending = torch.zeros(n, dtype=torch.bool, device=dev)
        # Constants on the device.
        self._low = torch.tensor(self.param_space.low.copy(), dtype=torch.float64, device=dev)
        self._high = torch.tensor(self.param_space.high.copy(), dtype=torch.float64, device=dev)
        self._dir_vec = torch.tensor(DIR_TO_VEC, dtype=torch.long, device=dev)
        offset_x, offset_y = _view_offsets()
        self._offset_x, self._offset_y = offset_x.to(dev), offset_y.to(dev)
        colour = torch.zeros(16, dtype=torch.uint8)
        colour[WALL], colour[GOAL], colour[LAVA] = GREY, GREEN, RED
        self._colour_of = colour.to(dev)
        self._wall = torch.tensor(WALL, dtype=torch.uint8, device=dev)
        coords = torch.arange(GRID_SIZE, device=dev)
        self._cell_x = coords[:, None].expand(GRID_SIZE, GRID_SIZE).reshape(-1)  # [x, y] → flat
        self._cell_y = coords[None, :].expand(GRID_SIZE, GRID_SIZE).reshape(-1)

    # ------------------------------------------------------------------ seeding
    def _seed(self, seed: int | None) -> None:
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(check_int("seed", seed, minimum=0))

    # ------------------------------------------------------------------ public API
    def reset(self, *, seed: int | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Start a new episode in every env (pending params, else a uniform draw).

        Returns:
            ``(obs, info)``; ``info["params"]`` is the ``(num_envs, 4)`` params of the episodes.
        """
        if seed is not None:
            self._seed(seed)
        self._reset_envs(torch.arange(self.num_envs, device=self.device))
        return self.observe(), {"params": self.params.clone()}

    def step(
        self, actions: Any
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """Step every env with its action (see the module docstring for autoreset).

        Args:
            actions: ``(num_envs,)`` integers in 0..6 (a tensor, NumPy array or sequence).

        Returns:
            ``(obs, reward, terminated, truncated, info)``: ``reward`` float32, the flags bool,
            all of shape ``(num_envs,)`` on the env's device.

        Raises:
            ValueError: ``actions`` has the wrong shape, a non-integer dtype or a value outside
                0..6; nothing is stepped.
        """
        actions = self._check_actions(actions)
        self.step_count += 1
        old_dir = self.agent_dir
        front = self.agent_pos + self._dir_vec.index_select(0, old_dir)
        front_x = front[:, 0].clamp(0, GRID_SIZE - 1)
        front_y = front[:, 1].clamp(0, GRID_SIZE - 1)
        objects = self.grid[:, 0].reshape(self.num_envs, GRID_SIZE * GRID_SIZE)
        front_object = torch.gather(objects, 1, (front_x * GRID_SIZE + front_y)[:, None])
        front_object = front_object.squeeze(1)
        forward = actions == FORWARD
        self.agent_dir = torch.where(
            actions == LEFT,
            (old_dir + 3) % 4,
            torch.where(actions == RIGHT, (old_dir + 1) % 4, old_dir),
        )
        moves = forward & (front_object != WALL)
        self.agent_pos = torch.where(moves[:, None], front, self.agent_pos)
        at_goal = forward & (front_object == GOAL)
        terminated = at_goal | (forward & (front_object == LAVA))
        truncated = self.step_count >= self.max_steps
        reward = torch.where(
            at_goal,
            1.0 - 0.9 * (self.step_count.double() / self.max_steps.double()),
            torch.zeros((), dtype=torch.float64, device=self.device),
        ).float()
        obs = self.observe()
        done = terminated | truncated
        info: dict[str, Any] = {}
        if bool(done.any()):
            info["final_obs"] = obs
            info["_final_obs"] = done
            info["final_params"] = self.params.clone()
            reset = done.nonzero().squeeze(1)
            self._reset_envs(reset)
            fresh = self._image(
                self.grid.index_select(0, reset),
                self.agent_pos.index_select(0, reset),
                self.agent_dir.index_select(0, reset),
            )
            obs = {
                "image": obs["image"].index_copy(0, reset, fresh),
                "direction": self.agent_dir.clone(),
            }
        info["params"] = self.params.clone()
        return obs, reward, terminated, truncated, info

    def set_next_params(self, indices: Any, params: Any) -> None:
        """Fill the pending slot of envs ``indices`` with ``params`` (one row per index).

        Args:
            indices: Distinct env indices in ``[0, num_envs)``.
            params: ``(len(indices), 4)`` vectors in ``param_space`` order, within its bounds.

        Raises:
            ValueError: naming the bad index or parameter; no slot is changed.
        """
        index = self._check_indices(indices)
        vectors = self._check_params(params, len(index))
        self.pending_params.index_copy_(0, index, vectors)
        self.has_pending.index_fill_(0, index, True)

    def load_layouts(
        self,
        indices: Any,
        grids: Any,
        agent_pos: Any,
        agent_dir: Any,
        max_steps: Any,
        params: Any = None,
    ) -> None:
        """Start episodes in envs ``indices`` from given layouts (e.g. the MiniGrid-based env's).

        Args:
            indices: Distinct env indices in ``[0, num_envs)``, ``k`` of them.
            grids: ``(k, 15, 15, 3)`` MiniGrid encodings (``Grid.encode()``, ``[x, y]``), with
                objects among empty, wall, goal and lava.
            agent_pos: ``(k, 2)`` interior ``(x, y)`` cells.
            agent_dir: ``(k,)`` directions in 0..3.
            max_steps: ``(k,)`` step limits, at least 1.
            params: ``(k, 4)`` the episodes' params (recorded only); ``None`` keeps the current.

        Raises:
            ValueError: a value of the wrong shape or out of range; nothing is changed.
        """
        index = self._check_indices(indices)
        k = len(index)
        grid = self._as_int_tensor("grids", grids, (k, GRID_SIZE, GRID_SIZE, 3))
        allowed = (grid[..., 0] == EMPTY) | (grid[..., 0] == WALL)
        allowed |= (grid[..., 0] == GOAL) | (grid[..., 0] == LAVA)
        if not bool(allowed.all()):
            raise ValueError("grids may hold only empty (1), wall (2), goal (8) and lava (9) cells")
        position = self._as_int_tensor("agent_pos", agent_pos, (k, 2))
        if bool(((position < 1) | (position > GRID_SIZE - 2)).any()):
            raise ValueError(f"agent_pos must lie in [1, {GRID_SIZE - 2}]; got {position.tolist()}")
        direction = self._as_int_tensor("agent_dir", agent_dir, (k,))
        if bool(((direction < 0) | (direction > 3)).any()):
            raise ValueError(f"agent_dir must be in 0..3; got {direction.tolist()}")
        limit = self._as_int_tensor("max_steps", max_steps, (k,))
        if bool((limit < 1).any()):
            raise ValueError(f"max_steps must be at least 1; got {limit.tolist()}")
        vectors = None if params is None else self._check_params(params, k)
        self.grid.index_copy_(0, index, grid.to(torch.uint8).permute(0, 3, 1, 2))
        self.agent_pos.index_copy_(0, index, position)
        self.agent_dir.index_copy_(0, index, direction)
        self.max_steps.index_copy_(0, index, limit)
        self.step_count.index_fill_(0, index, 0)
        if vectors is not None:
            self.params.index_copy_(0, index, vectors)

    def observe(self) -> dict[str, torch.Tensor]:
        """Every env's observation now: ``{"image": (n, 7, 7, 3) uint8, "direction": (n,)}``."""
        image = self._image(self.grid, self.agent_pos, self.agent_dir)
        return {"image": image, "direction": self.agent_dir.clone()}

    def _image(
        self, grid: torch.Tensor, agent_pos: torch.Tensor, agent_dir: torch.Tensor
    ) -> torch.Tensor:
        """The ``(n, 7, 7, 3)`` views of ``n`` envs' state (any subset of the batch)."""
        n = len(grid)
        # index_select, not tensor[indices]: advanced indexing is ~1000× slower on CPU here.
        view_x = self._offset_x.index_select(0, agent_dir) + agent_pos[:, 0, None, None]
        view_y = self._offset_y.index_select(0, agent_dir) + agent_pos[:, 1, None, None]
        inside = (view_x >= 0) & (view_x < GRID_SIZE) & (view_y >= 0) & (view_y < GRID_SIZE)
        flat = view_x.clamp(0, GRID_SIZE - 1) * GRID_SIZE + view_y.clamp(0, GRID_SIZE - 1)
        objects = grid[:, 0].reshape(n, GRID_SIZE * GRID_SIZE)
        codes = torch.gather(objects, 1, flat.view(n, VIEW_SIZE * VIEW_SIZE))
        codes = torch.where(inside.view(n, -1), codes, self._wall).view(n, VIEW_SIZE, VIEW_SIZE)
        codes = codes * _process_vis(codes != WALL)  # unseen cells encode as 0 (UNSEEN)
        codes[:, VIEW_SIZE // 2, VIEW_SIZE - 1] = EMPTY  # the agent's own cell
        colours = self._colour_of.index_select(0, codes.view(-1).long()).view_as(codes)
        return torch.stack([codes, colours, torch.zeros_like(codes)], dim=-1)

    # ------------------------------------------------------------------ generation
    def _reset_envs(self, index: torch.Tensor) -> None:
        """New episodes in envs ``index``: params from the pending slot or a draw, then layouts."""
        k = len(index)
        if k == 0:
            return
        drawn = self._low + torch.rand(
            k,
            self.param_space.dim,
            dtype=torch.float64,
            device=self.device,
            generator=self.generator,
        ) * (self._high - self._low)
        pending = self.has_pending.index_select(0, index)
        params = torch.where(pending[:, None], self.pending_params.index_select(0, index), drawn)
        self.has_pending.index_fill_(0, index, False)
        self.params.index_copy_(0, index, params)
        self._generate(index, params)

    def _rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, device=self.device, generator=self.generator)

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
        x, y = self._cell_x[None, :], self._cell_y[None, :]  # (1, cells)
        interior = (x >= 1) & (x <= size - 2) & (y >= 1) & (y <= size - 2)
        farthest_x = torch.maximum(x - 1, size - 2 - x)
        farthest_y = torch.maximum(y - 1, size - 2 - y)

        def pick(candidates: torch.Tensor) -> torch.Tensor:  # a uniform candidate per row
            keys = torch.where(candidates, self._rand(k, cells), -1.0)
            return keys.argmax(dim=1)

        agent = pick(interior & (farthest_x + farthest_y >= distance))
        agent_x = self._cell_x.index_select(0, agent)[:, None]
        agent_y = self._cell_y.index_select(0, agent)[:, None]
        goal = pick(interior & ((x - agent_x).abs() + (y - agent_y).abs() == distance))
        goal_x = self._cell_x.index_select(0, goal)[:, None]
        goal_y = self._cell_y.index_select(0, goal)[:, None]
        ring = sealed[:, None] & interior & ((x - goal_x).abs() + (y - goal_y).abs() == 1)

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
        rank = torch.where(free, self._rand(k, cells), 2.0).argsort(dim=1).argsort(dim=1)
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
        self.step_count.index_fill_(0, index, 0)
        self.max_steps.index_copy_(0, index, STEPS_PER_CELL * size[:, 0] ** 2)

    # ------------------------------------------------------------------ checks
    def _check_actions(self, actions: Any) -> torch.Tensor:
        tensor = actions if isinstance(actions, torch.Tensor) else None
        if tensor is None:
            array = np.asarray(actions)
            if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
                raise ValueError(
                    f"actions must be integers in 0..{NUM_ACTIONS - 1}; got dtype {array.dtype}"
                )
            tensor = torch.as_tensor(array)
        elif tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
            raise ValueError(
                f"actions must be integers in 0..{NUM_ACTIONS - 1}; got dtype {tensor.dtype}"
            )
        if tuple(tensor.shape) != (self.num_envs,):
            raise ValueError(
                f"actions must have shape ({self.num_envs},), one per env; "
                f"got shape {tuple(tensor.shape)}"
            )
        tensor = tensor.to(device=self.device, dtype=torch.long)
        bad = (tensor < 0) | (tensor >= NUM_ACTIONS)
        if bool(bad.any()):
            where = bad.nonzero().squeeze(1)[:5].tolist()
            raise ValueError(
                f"actions must be in 0..{NUM_ACTIONS - 1}; env(s) {where} got "
                f"{tensor[bad][:5].tolist()}"
            )
        return tensor

    def _check_indices(self, indices: Any) -> torch.Tensor:
        if isinstance(indices, torch.Tensor):
            array = indices.detach().cpu().numpy()
        else:
            array = np.asarray(indices)
        if array.ndim != 1 or array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"indices must be a 1-D sequence of env indices in [0, {self.num_envs}); "
                f"got {indices!r}"
            )
        bad = (array < 0) | (array >= self.num_envs)
        if bad.any():
            raise ValueError(
                f"indices must be in [0, {self.num_envs}); got {array[bad][:5].tolist()}"
            )
        if len(np.unique(array)) != len(array):
            raise ValueError(f"indices must be distinct; got {array.tolist()}")
        return torch.as_tensor(array, dtype=torch.long, device=self.device)

    def _check_params(self, params: Any, count: int) -> torch.Tensor:
        if isinstance(params, torch.Tensor):
            params = params.detach().cpu().numpy()
        try:
            array = np.array(params, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"params must be a ({count}, {self.param_space.dim}) array of numbers; "
                f"got {params!r}"
            ) from None
        if array.shape != (count, self.param_space.dim):
            raise ValueError(
                f"params must have shape ({count}, {self.param_space.dim}), one row of "
                f"({', '.join(self.param_space.names)}) per index; got shape {array.shape}"
            )
        for row, vector in enumerate(array):
            try:
                self.param_space.validate(vector)
            except ValueError as error:
                raise ValueError(f"params row {row}: {error}") from None
        return torch.as_tensor(array, dtype=torch.float64, device=self.device)

    def _as_int_tensor(self, name: str, value: Any, shape: Sequence[int]) -> torch.Tensor:
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        array = np.asarray(array)
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must be integers; got dtype {array.dtype}")
        if array.shape != tuple(shape):
            raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}")
        return torch.as_tensor(array.astype(np.int64), device=self.device)
