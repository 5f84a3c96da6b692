"""``BatchedGridEnv``: the family-independent machinery of teachgym's batched grid envs (issue 13).

A batched family is a ``BatchedGridEnv`` subclass that sets its ``param_space``, grid size and the
object codes its layouts may hold, and implements ``_generate(index, params)``: the layouts of
envs ``index`` from their params, in batch, on the env's device, with ``self._rand`` (the env's
seeded ``torch.Generator``). It may also override ``_after_step`` (e.g. to add noise, or to give
the ``done`` action a meaning). Everything else lives here, once:

- **State**: a handful of tensors of shape ``(num_envs, …)`` on one device (see the class
  docstring), rooms smaller than the family's grid padded with walls.
- **Dynamics**: MiniGrid's 7 actions with MiniGrid's semantics (``MiniGridEnv.step`` and
  ``minigrid.core.world_object``): 0 turn left, 1 turn right, 2 forward (onto empty cells, goals,
  lava and open doors; walls, closed or locked doors, keys, balls and boxes block), 3 pick up a
  key, ball or box in front into an empty hand, 4 drop the carried object in front onto an empty
  cell, 5 toggle (open or close an unlocked door; unlock and open a locked door while carrying a
  key of its colour; open a box, which MiniGrid replaces by its contents: boxes here are always
  empty, so the box vanishes), 6 done (nothing, unless a family's ``_after_step`` says so). The
  goal terminates with reward ``1 - 0.9 * step_count / max_steps``, lava terminates with reward 0;
  truncated when ``step_count >= max_steps`` (both flags can be true on the same step).
- **Observation**: ``image`` ``(num_envs, 7, 7, 3)`` uint8, MiniGrid's default egocentric view
  indexed ``[column, row, channel]`` as ``Grid.encode`` is, the agent at column 3 of the bottom
  row 6, cells outside the grid seen as walls, the agent's own cell showing what it carries (else
  empty). Visibility is MiniGrid's ``Grid.process_vis`` rule: walls and closed or locked doors are
  opaque (``see_behind``), everything else lets light through; cells not seen encode as
  ``(0, 0, 0)``. ``direction`` ``(num_envs,)`` int64. No ``mission`` text (a constant).
- **Autoreset**: Gymnasium's ``same_step`` mode (``metadata["autoreset_mode"]`` is
  ``AutoresetMode.SAME_STEP``): the step on which an env's episode ends returns the *next*
  episode's first observation for that env. On such a step (and only then) the info holds, as full
  batches meaningful where the env's episode ended:

  - ``final_obs``: the finished episode's last observation (a batched dict), mask ``_final_obs``;
  - ``final_info``: the finished step's own info, ``{"params": (n, dim), "_params": mask}``, mask
    ``_final_info`` (Gymnasium's ``SyncVectorEnv`` key; a ``dict`` of batches here rather than
    Gymnasium's per-env rows, because every env's info has the same keys);
  - ``final_params`` ``(n, dim)`` float64, ``final_return`` ``(n,)`` float64 (the undiscounted
    return, summed in float64 from the rewards before their cast to float32) and
    ``final_length`` ``(n,)`` int64: each finished episode's params, return and length, so a
    teacher pairs them exactly.

  Rewards and flags are those of the finished step.
- **Params per env**: ``set_next_params(indices, params)`` fills a pending slot per env, used (and
  emptied) by that env's next reset; envs with an empty slot draw params uniformly from the
  generator. ``info["params"]`` holds each env's current episode params, on every reset and step
  (after an autoreset: the new episode's).
- **Levels**: ``set_next_params(indices, params, level_seeds=...)`` or
  ``reset(options={"params": ..., "level_seed": ...})`` (``-1``: no level) make an episode's
  *layout* a function of ``(params, level seed)``: it is generated from the generator reseeded
  with the level seed, one env at a time, and the shared stream then continues where it was, so
  replaying a level (Jiang et al. 2021, "Prioritized Level Replay") gives the same layout
  whatever the batch played before. What happens after the reset (the noise of the noisy
  families) still draws from the shared stream. ``level_seed`` ``(num_envs,)`` int64 is the
  current episodes' level seeds (``-1`` where none); a step that ends episodes adds
  ``final_level_seed`` beside ``final_params``. Envs that never get a level pay nothing.
- **Interface**: a ``gymnasium.vector.VectorEnv`` whose ``reset`` and ``step`` take and return
  torch tensors on the env's device (the torch-tensor interface, for on-device learners). The
  NumPy face (``numpy_vector.BatchedNumpyVectorEnv``) and the stable-baselines3 face
  (``sb3.BatchedSB3VecEnv``) wrap it.

On this CPU build of torch, tensor-indexed reads and writes (``t[idx]``, ``t[idx] = v``) are about
1000× slower than ``index_select`` / ``index_copy_`` / ``gather`` / ``scatter_``: the step and the
generators use only the latter.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from teachgym.checks import check_int
from teachgym.spaces import ParamSpace

__all__ = ["BatchedGridEnv"]

# MiniGrid's constants (minigrid.core.constants), copied so that MiniGrid is not imported.
# OBJECT_TO_IDX:
UNSEEN, EMPTY, WALL, FLOOR, DOOR, KEY, BALL, BOX, GOAL, LAVA = range(10)
# COLOR_TO_IDX:
RED, GREEN, BLUE, PURPLE, YELLOW, GREY = range(6)
NUM_COLOURS = 6
# STATE_TO_IDX (doors; every other object encodes state 0):
OPEN, CLOSED, LOCKED = 0, 1, 2
# DIR_TO_VEC: direction 0 faces +x, 1 faces +y, 2 faces -x, 3 faces -y.
DIR_TO_VEC = ((1, 0), (0, 1), (-1, 0), (0, -1))
# MiniGrid's Actions.
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
NUM_ACTIONS = 7

VIEW_SIZE = 7  # MiniGrid's default agent_view_size


def resolve_device(device: Any) -> torch.device:
    """``device`` as a ``torch.device``; ``ValueError`` for a bad string or an absent CUDA."""
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


@cache
def _view_index(width: int, height: int) -> torch.Tensor:
    """For each ``(x, y, direction)`` of the agent, the ``(column, row)`` cells of its view as
    indices into a grid flattened ``[x, y]``: ``(width * height * 4, 7 * 7)``.

    View cells outside the grid point at cell ``(0, 0)``, a wall in every layout (``load_layouts``
    checks the border), so the observation is one ``gather`` with no bounds arithmetic per step.
    """
    offset_x, offset_y = _view_offsets()  # (4, column, row)
    cell_x = torch.arange(width)[:, None, None, None, None]  # (x, y, direction, column, row)
    cell_y = torch.arange(height)[None, :, None, None, None]
    view_x = cell_x + offset_x[None, None]
    view_y = cell_y + offset_y[None, None]
    inside = (view_x >= 0) & (view_x < width) & (view_y >= 0) & (view_y < height)
    flat = torch.where(inside, view_x * height + view_y, 0)
    return flat.reshape(width * height * 4, VIEW_SIZE * VIEW_SIZE)


@cache
def _row_table(size: int) -> torch.Tensor:
    """MiniGrid's ``process_vis`` for one view row, tabulated over (lit bits, see-through bits).

    Entry ``lit | see << size`` packs the row's lit cells after both passes (low ``size`` bits)
    and the cells of the row above that they light (next ``size`` bits). Rows are visited from the
    agent's (the bottom) up; in each row light spreads left to right, then right to left, through
    see-through cells, and each lit see-through cell lights the cells above it and diagonally
    above (on the side of the pass), exactly as MiniGrid's loops do.
    """
    table = torch.zeros(1 << (2 * size), dtype=torch.long)
    for entry in range(1 << (2 * size)):
        lit = [bool(entry >> column & 1) for column in range(size)]
        see = [bool(entry >> (size + column) & 1) for column in range(size)]
        above = [False] * size
        for column in range(size - 1):  # left to right
            if lit[column] and see[column]:
                lit[column + 1] = True
                above[column + 1] = above[column] = True
        for column in range(size - 1, 0, -1):  # right to left
            if lit[column] and see[column]:
                lit[column - 1] = True
                above[column - 1] = above[column] = True
        table[entry] = sum(1 << c for c in range(size) if lit[c]) + sum(
            1 << (size + c) for c in range(size) if above[c]
        )
    return table


class BatchedGridEnv(VectorEnv):  # type: ignore[type-arg]
    """``num_envs`` envs of one grid family stepped together as tensors on one device.

    See the module docstring for the dynamics, observation and autoreset. A subclass sets the
    class attributes below and implements ``_generate``.

    Spaces (Gymnasium's; the tensors ``step`` returns fit them once moved to NumPy):
    ``single_observation_space`` is ``Dict(image=Box(0, 255, (7, 7, 3), uint8),
    direction=Discrete(4))`` (MiniGrid's, without the constant ``mission``),
    ``observation_space`` its batch; ``single_action_space`` is ``Discrete(7)``,
    ``action_space`` ``MultiDiscrete([7] * num_envs)``.

    Args:
        num_envs: How many envs, at least 1.
        device: Torch device of every state tensor (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …).
        seed: Seed of the env's ``torch.Generator`` (layouts and uniform param draws); ``None``
            seeds it from the OS. ``reset(seed=...)`` reseeds it.

    Attributes (state, all of shape ``(num_envs, …)`` on ``device``; ``W``, ``H`` the family's
    ``grid_width``, ``grid_height``):
        grid: ``(num_envs, 3, W, H)`` uint8, MiniGrid's ``(object, colour, state)`` codes,
            ``[env, channel, x, y]``.
        agent_pos: ``(num_envs, 2)`` int64, ``(x, y)``.
        agent_dir: ``(num_envs,)`` int64 in 0..3.
        carrying: ``(num_envs, 3)`` uint8, the carried object's codes; ``(0, 0, 0)`` for none.
        step_count: ``(num_envs,)`` int64, steps taken in the current episode.
        max_steps: ``(num_envs,)`` int64, the current episode's step limit.
        params: ``(num_envs, dim)`` float64, the current episode's params.
        pending_params: ``(num_envs, dim)`` float64, the pending slot (valid where
            ``has_pending`` is true).
        has_pending: ``(num_envs,)`` bool.
        pending_level_seed: ``(num_envs,)`` int64, the level queued with the pending params
            (``-1``: none).
        level_seed: ``(num_envs,)`` int64, the current episode's level seed (``-1``: none).
        episode_return: ``(num_envs,)`` float64, the current episode's undiscounted return.
    """

    # A plain class attribute, as Gymnasium declares it (VectorEnv.metadata).
    metadata: dict[str, Any] = {  # noqa: RUF012
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": ["rgb_array"],
        "render_fps": 10,
    }
    render_mode = "rgb_array"

    #: The family's params (names, bounds, defaults), equal to the MiniGrid-based family's.
    param_space: ClassVar[ParamSpace]
    #: Width and height every layout is padded to (with walls).
    grid_width: ClassVar[int]
    grid_height: ClassVar[int]
    #: Object codes a layout of the family may hold (``load_layouts`` checks them).
    object_codes: ClassVar[tuple[int, ...]]
    return_range: ClassVar[tuple[float, float]] = (0.0, 1.0)
    mastery_threshold: ClassVar[float] = 0.0
    num_actions: ClassVar[int] = NUM_ACTIONS

    def __init__(self, num_envs: int, *, device: Any = "cpu", seed: int | None = None) -> None:
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.device = resolve_device(device)
        self.generator = torch.Generator(device=self.device)
        self._seed(seed)
        n, dev = self.num_envs, self.device
        width, height = self.grid_width, self.grid_height
        self.grid = torch.zeros(n, 3, width, height, dtype=torch.uint8, device=dev)
        self.agent_pos = torch.ones(n, 2, dtype=torch.long, device=dev)
        self.agent_dir = torch.zeros(n, dtype=torch.long, device=dev)
        self.carrying = torch.zeros(n, 3, dtype=torch.uint8, device=dev)
        self.step_count = torch.zeros(n, dtype=torch.long, device=dev)
        self.max_steps = torch.ones(n, dtype=torch.long, device=dev)
        dim = self.param_space.dim
        self.params = torch.zeros(n, dim, dtype=torch.float64, device=dev)
        self.pending_params = torch.zeros(n, dim, dtype=torch.float64, device=dev)
        self.has_pending = torch.zeros(n, dtype=torch.bool, device=dev)
        self.pending_level_seed = torch.full((n,), -1, dtype=torch.long, device=dev)
        self.level_seed = torch.full((n,), -1, dtype=torch.long, device=dev)
        #: Whether any level seed was ever given: until then resets skip the level machinery.
        self._levels_used = False
        self.episode_return = torch.zeros(n, dtype=torch.float64, device=dev)
        self.single_observation_space = spaces.Dict(
            {
                "image": spaces.Box(0, 255, (VIEW_SIZE, VIEW_SIZE, 3), dtype=np.uint8),
                "direction": spaces.Discrete(4),
            }
        )
        self.observation_space = batch_space(self.single_observation_space, n)
        self.single_action_space = spaces.Discrete(self.num_actions)
        self.action_space = batch_space(self.single_action_space, n)
        # Constants on the device.
        self._low = torch.tensor(self.param_space.low.copy(), dtype=torch.float64, device=dev)
        self._high = torch.tensor(self.param_space.high.copy(), dtype=torch.float64, device=dev)
        self._dir_vec = torch.tensor(DIR_TO_VEC, dtype=torch.long, device=dev)
        # The view's cells in the observation's own order [column, row, channel], as indices into
        # a grid flattened [channel, x, y]: one gather gives the image, with no permute after.
        # int32: index_select of int64 rows is ~20× slower than of int32 rows on this CPU build.
        view = _view_index(width, height)  # (W * H * 4, 49)
        channel = torch.arange(3)[None, None, :] * (width * height)
        self._view_index = (view[:, :, None] + channel).reshape(len(view), -1)
        self._view_index = self._view_index.to(device=dev, dtype=torch.int32)
        self._empty_codes = torch.tensor([EMPTY, 0, 0], dtype=torch.uint8, device=dev)
        # int32 (entries < 2**14): halves the memory traffic of the seven row lookups.
        self._vis_table = _row_table(VIEW_SIZE).to(device=dev, dtype=torch.int32)
        # column → its bit in a row mask
        self._bit = (1 << torch.arange(VIEW_SIZE, device=dev)).to(torch.uint8)
        self._bit32 = self._bit.to(torch.int32)
        self._env_offsets: dict[tuple[int, int], torch.Tensor] = {}
        self._channel_offset = torch.arange(3, device=dev) * (width * height)
        self._cell_x = torch.arange(width, device=dev)[:, None].expand(width, height).reshape(-1)
        self._cell_y = torch.arange(height, device=dev)[None, :].expand(width, height).reshape(-1)

    # ------------------------------------------------------------------ hooks
    def _generate(self, index: torch.Tensor, params: torch.Tensor) -> None:
        """Lay out new episodes in envs ``index`` from their ``params`` (``(len(index), dim)``).

        Sets ``grid``, ``agent_pos``, ``agent_dir`` and ``max_steps`` of those envs, in batch,
        drawing randomness only from ``self._rand`` / ``self.generator``. ``step_count``, the
        carried object and the params are already reset.
        """
        raise NotImplementedError

    def _after_step(
        self, actions: torch.Tensor, reward: torch.Tensor, terminated: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Family-specific effects after the dynamics, before truncation and the observation.

        Returns:
            ``(reward, terminated)``, float64 and bool ``(num_envs,)``; unchanged by default.
        """
        return reward, terminated

    # ------------------------------------------------------------------ seeding
    def _seed(self, seed: int | None) -> None:
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(check_int("seed", seed, minimum=0))

    def _rand(self, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, device=self.device, generator=self.generator)

    # ------------------------------------------------------------------ public API
    def render(self, index: int = 0) -> np.ndarray:  # type: ignore[override]
        """RGB frame of sub-env ``index`` with MiniGrid's tiles (needs the ``grid`` extra)."""
        from teachgym.envs.batched.render import render_rgb

        return render_rgb(self, index)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Start a new episode in every env (or in ``options["reset_mask"]``'s).

        Each new episode's params are, in order of precedence: its row of ``options["params"]``
        (the pending slot is then left as it is, for the next reset), its pending slot
        (``set_next_params``, emptied), a uniform draw from the generator.

        Args:
            seed: Reseeds the env's generator (all envs share it: one seed, not one per env).
            options: ``{"params": (num_envs, dim) array, "level_seed": (num_envs,) int,
                "reset_mask": (num_envs,) bool}``, all optional, ``level_seed`` only with
                ``params`` (``-1`` for an episode without a level); rows outside the mask are
                ignored (but checked).

        Returns:
            ``(obs, info)``; ``info["params"]`` is the ``(num_envs, dim)`` params of every env's
            episode (the running ones' outside the mask).

        Raises:
            ValueError: an unknown option, or one of the wrong shape; nothing is changed.
        """
        mask = None
        params = None
        levels = None
        if options is not None:
            known = {"params", "level_seed", "reset_mask"}
            if not isinstance(options, dict) or set(options) - known:
                raise ValueError(
                    f"options may hold only 'params', 'level_seed' and 'reset_mask'; "
                    f"got {options!r}"
                )
            if options.get("params") is not None:
                params = self._check_params(options["params"], self.num_envs)
            if options.get("level_seed") is not None:
                if params is None:
                    raise ValueError(
                        "reset option 'level_seed' needs 'params' beside it: a level is a pair "
                        "(params, level seed)"
                    )
                levels = self._check_level_seeds(options["level_seed"], self.num_envs)
            if options.get("reset_mask") is not None:
                mask = self._check_mask(options["reset_mask"])
        if seed is not None:
            self._seed(seed)
        if mask is None:
            index = torch.arange(self.num_envs, device=self.device)
        else:
            index = mask.nonzero().squeeze(1)
        chosen = None if params is None else params.index_select(0, index)
        if levels is not None:
            self._levels_used = True
        elif params is not None and self._levels_used:
            levels = torch.full((self.num_envs,), -1, dtype=torch.long, device=self.device)
        chosen_levels = None if levels is None else levels.index_select(0, index)
        self._reset_envs(index, chosen, chosen_levels)
        info: dict[str, Any] = {"params": self.params.clone()}
        if self._levels_used:
            info["level_seed"] = self.level_seed.clone()
        return self.observe(), info

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
        n, height = self.num_envs, self.grid_height
        self.step_count += 1
        old_dir = self.agent_dir
        front = self.agent_pos + self._dir_vec.index_select(0, old_dir)
        front_x = front[:, 0].clamp(0, self.grid_width - 1)
        front_y = front[:, 1].clamp(0, height - 1)
        cells = self.grid.view(n, -1)
        # The front cell's three codes: a contiguous (n, 3) index (an expanded one is slow).
        front_index = (front_x * height + front_y)[:, None] + self._channel_offset
        front_codes = torch.gather(cells, 1, front_index)  # (n, 3)
        front_object, front_colour, front_state = front_codes.unbind(1)
        is_door = front_object == DOOR
        self.agent_dir = torch.where(
            actions == LEFT,
            (old_dir + 3) % 4,
            torch.where(actions == RIGHT, (old_dir + 1) % 4, old_dir),
        )
        # Forward: MiniGrid's can_overlap (empty, goal, lava, floor, open doors).
        forward = actions == FORWARD
        passable = (front_object == EMPTY) | (front_object == GOAL) | (front_object == LAVA)
        passable |= (front_object == FLOOR) | (is_door & (front_state == OPEN))
        self.agent_pos = torch.where((forward & passable)[:, None], front, self.agent_pos)
        at_goal = forward & (front_object == GOAL)
        terminated = at_goal | (forward & (front_object == LAVA))
        # Pick up, drop and toggle change the front cell and the hand.
        hand_empty = self.carrying[:, 0] == 0
        portable = (front_object == KEY) | (front_object == BALL) | (front_object == BOX)
        picks = (actions == PICKUP) & portable & hand_empty
        drops = (actions == DROP) & (front_object == EMPTY) & ~hand_empty
        toggles = actions == TOGGLE
        has_key = (self.carrying[:, 0] == KEY) & (self.carrying[:, 1] == front_colour)
        unlocks = toggles & is_door & (front_state == LOCKED) & has_key
        swings = toggles & is_door & (front_state != LOCKED)  # open ↔ closed
        opens_box = toggles & (front_object == BOX)  # replaced by its (empty) contents
        if bool((picks | drops | unlocks | swings | opens_box).any()):
            new_front = torch.where((picks | opens_box)[:, None], self._empty_codes, front_codes)
            new_front = torch.where(drops[:, None], self.carrying, new_front)
            new_state = torch.where(unlocks, OPEN, front_state)
            new_state = torch.where(swings, CLOSED - front_state, new_state)  # 0 ↔ 1
            new_front = torch.cat([new_front[:, :2], new_state[:, None]], dim=1)
            cells.scatter_(1, front_index, new_front)
            self.carrying = torch.where(picks[:, None], front_codes, self.carrying)
            self.carrying = torch.where(drops[:, None], 0, self.carrying)
        reward = torch.where(
            at_goal,
            1.0 - 0.9 * (self.step_count.double() / self.max_steps.double()),
            torch.zeros((), dtype=torch.float64, device=self.device),
        )
        reward, terminated = self._after_step(actions, reward, terminated)
        truncated = self.step_count >= self.max_steps
        obs = self.observe()
        done = terminated | truncated
        self.episode_return += reward
        info: dict[str, Any] = {}
        if bool(done.any()):
            final_params = self.params.clone()
            info["final_obs"] = obs
            info["_final_obs"] = done
            info["final_info"] = {"params": final_params, "_params": done}
            info["_final_info"] = done
            info["final_params"] = final_params
            info["final_return"] = self.episode_return.clone()
            info["final_length"] = self.step_count.clone()
            if self._levels_used:
                info["final_level_seed"] = self.level_seed.clone()
            reset = done.nonzero().squeeze(1)
            self._reset_envs(reset)
            fresh = self._image(
                self.grid.index_select(0, reset),
                self.agent_pos.index_select(0, reset),
                self.agent_dir.index_select(0, reset),
                self.carrying.index_select(0, reset),
            )
            obs = {
                "image": obs["image"].index_copy(0, reset, fresh),
                "direction": self.agent_dir.clone(),
            }
        info["params"] = self.params.clone()
        if self._levels_used:
            info["level_seed"] = self.level_seed.clone()
        return obs, reward.float(), terminated, truncated, info

    def set_next_params(
        self, indices: Any, params: Any, *, level_seeds: Any = None, check: bool = True
    ) -> None:
        """Fill the pending slot of envs ``indices`` with ``params`` (one row per index), and
        with ``level_seeds`` if given (see "Levels" in the module docstring).

        Args:
            indices: Distinct env indices in ``[0, num_envs)``.
            params: ``(len(indices), dim)`` vectors in ``param_space`` order, within its bounds.
            level_seeds: ``(len(indices),)`` integers in ``[0, 2**63 - 1]``, ``-1`` for no level;
                ``None``: no levels.
            check: Validate ``indices``, ``params`` and ``level_seeds`` (on the host). ``False``
                is for trusted callers on the hot path — a curriculum handing on a ``Teacher``'s
                samples, which are inside the bounds by the teacher contract: ``indices`` must
                then be an int64 tensor, ``params`` a float64 tensor and ``level_seeds`` an int64
                tensor, all on the env's device, and nothing leaves the device.

        Raises:
            ValueError: naming the bad index, parameter or level seed; no slot is changed.
        """
        if check:
            indices = self._check_indices(indices)
            params = self._check_params(params, len(indices))
            if level_seeds is not None:
                level_seeds = self._check_level_seeds(level_seeds, len(indices))
        self.pending_params.index_copy_(0, indices, params)
        self.has_pending.index_fill_(0, indices, True)
        if level_seeds is not None:
            self._levels_used = True
            self.pending_level_seed.index_copy_(0, indices, level_seeds)
        elif self._levels_used:
            self.pending_level_seed.index_fill_(0, indices, -1)

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
        """Start episodes in envs ``indices`` from given layouts (e.g. the MiniGrid-based env's).

        Args:
            indices: Distinct env indices in ``[0, num_envs)``, ``k`` of them.
            grids: ``(k, W, H, 3)`` MiniGrid encodings (``Grid.encode()``, ``[x, y]``), with
                objects among the family's ``object_codes``, colours in 0..5 and states in 0..2
                (doors: 0 open, 1 closed, 2 locked).
            agent_pos: ``(k, 2)`` interior ``(x, y)`` cells.
            agent_dir: ``(k,)`` directions in 0..3.
            max_steps: ``(k,)`` step limits, at least 1.
            params: ``(k, dim)`` the episodes' params (recorded only); ``None`` keeps the current.
            carrying: ``(k, 3)`` codes of the carried key, ball or box, ``(0, 0, 0)`` for none;
                ``None`` for empty hands.

        Raises:
            ValueError: a value of the wrong shape or out of range; nothing is changed.
        """
        index = self._check_indices(indices)
        k, width, height = len(index), self.grid_width, self.grid_height
        grid = self._as_int_tensor("grids", grids, (k, width, height, 3))
        objects, colours, states = grid.unbind(-1)
        allowed = torch.zeros_like(objects, dtype=torch.bool)
        for code in self.object_codes:
            allowed |= objects == code
        if not bool(allowed.all()):
            raise ValueError(
                f"grids may hold only the objects {self.object_codes} (MiniGrid codes)"
            )
        if bool(((colours < 0) | (colours >= NUM_COLOURS)).any()):
            raise ValueError(f"grids colours must be in 0..{NUM_COLOURS - 1}")
        if bool(((states < 0) | (states > LOCKED)).any()):
            raise ValueError("grids states must be in 0..2 (doors: open, closed, locked)")
        position = self._as_int_tensor("agent_pos", agent_pos, (k, 2))
        outside = (position < 1) | (
            position > torch.tensor([width - 2, height - 2], device=self.device)
        )
        if bool(outside.any()):
            raise ValueError(
                f"agent_pos must lie in [1, {width - 2}] × [1, {height - 2}]; "
                f"got {position.tolist()}"
            )
        direction = self._as_int_tensor("agent_dir", agent_dir, (k,))
        if bool(((direction < 0) | (direction > 3)).any()):
            raise ValueError(f"agent_dir must be in 0..3; got {direction.tolist()}")
        limit = self._as_int_tensor("max_steps", max_steps, (k,))
        if bool((limit < 1).any()):
            raise ValueError(f"max_steps must be at least 1; got {limit.tolist()}")
        if carrying is None:
            hand = torch.zeros(k, 3, dtype=torch.long, device=self.device)
        else:
            hand = self._as_int_tensor("carrying", carrying, (k, 3))
            held = hand[:, 0]
            portable = (held == KEY) | (held == BALL) | (held == BOX)
            bad = ~(portable | (hand == 0).all(dim=1)) | (hand[:, 1] < 0)
            bad |= (hand[:, 1] >= NUM_COLOURS) | (hand[:, 2] != 0)
            if bool(bad.any()):
                raise ValueError(
                    f"carrying must be (0, 0, 0) or a key, ball or box (5, 6, 7) with a colour "
                    f"in 0..5 and state 0; got {hand.tolist()}"
                )
        vectors = None if params is None else self._check_params(params, k)
        border = torch.ones(width, height, dtype=torch.bool, device=self.device)
        border[1:-1, 1:-1] = False
        wall = (objects == WALL) & (colours == GREY) & (states == 0)
        if not bool((wall | ~border).all()):
            raise ValueError("grids must have walls (2, 5, 0) all along their border")
        self.grid.index_copy_(0, index, grid.to(torch.uint8).permute(0, 3, 1, 2))
        self.agent_pos.index_copy_(0, index, position)
        self.agent_dir.index_copy_(0, index, direction)
        self.carrying.index_copy_(0, index, hand.to(torch.uint8))
        self.max_steps.index_copy_(0, index, limit)
        self.step_count.index_fill_(0, index, 0)
        self.episode_return.index_fill_(0, index, 0.0)
        if vectors is not None:
            self.params.index_copy_(0, index, vectors)

    def observe(self) -> dict[str, torch.Tensor]:
        """Every env's observation now: ``{"image": (n, 7, 7, 3) uint8, "direction": (n,)}``."""
        image = self._image(self.grid, self.agent_pos, self.agent_dir, self.carrying)
        return {"image": image, "direction": self.agent_dir.clone()}

    def _image(
        self,
        grid: torch.Tensor,
        agent_pos: torch.Tensor,
        agent_dir: torch.Tensor,
        carrying: torch.Tensor,
    ) -> torch.Tensor:
        """The ``(n, 7, 7, 3)`` views of ``n`` envs' state (any subset of the batch)."""
        n, height = len(grid), self.grid_height
        # index_select / gather, not tensor[indices]: advanced indexing is ~1000× slower on CPU.
        where = (agent_pos[:, 0] * height + agent_pos[:, 1]) * 4 + agent_dir
        # int32 flat indices (an index_select takes them; a gather would need int64 ones).
        index = self._view_index.index_select(0, where)  # (n, 49 * 3)
        index += self._env_offset(n, grid.shape[1] * grid.shape[2] * grid.shape[3])
        image = grid.reshape(-1).index_select(0, index.view(-1))
        image = image.view(n, VIEW_SIZE, VIEW_SIZE, 3)
        objects = image[..., 0]  # [env, column, row]
        opaque = (objects == WALL) | ((objects == DOOR) & (image[..., 2] != OPEN))
        image.mul_(self._visible(opaque)[..., None])  # unseen cells encode as (0, 0, 0)
        hand = torch.where(carrying[:, :1] == 0, self._empty_codes, carrying)
        image[:, VIEW_SIZE // 2, VIEW_SIZE - 1] = hand  # the agent's own cell
        return image

    def _env_offset(self, n: int, stride: int) -> torch.Tensor:
        """``(n, 1)`` int32 ``env * stride``: where each env's block starts in a flat batch."""
        key = (n, stride)
        if self._env_offsets.get(key) is None:
            offset = torch.arange(n, dtype=torch.int32, device=self.device) * stride
            self._env_offsets[key] = offset[:, None]
        return self._env_offsets[key]

    def _visible(self, opaque: torch.Tensor) -> torch.Tensor:
        """MiniGrid's ``Grid.process_vis`` for a batch of views ``[env, column, row]`` (``opaque``
        bool): one table lookup per row (see ``_row_table``) on bit-packed rows instead of a loop
        over cells. Returns the visible cells as a ``[env, column, row]`` bool tensor."""
        size = VIEW_SIZE
        # Bits of the see-through cells of each row, already shifted to the table's high half.
        see_rows = ((~opaque).to(torch.int32) * (self._bit32 << size)[None, :, None]).sum(
            dim=1, dtype=torch.int32
        )  # (n, row)
        lit = torch.full_like(see_rows[:, 0], 1 << (size // 2))
        packed = torch.empty_like(see_rows)
        for row in range(size - 1, -1, -1):
            entry = self._vis_table.index_select(0, lit | see_rows[:, row])
            packed[:, row] = entry
            lit = entry >> size
        lit_rows = packed.to(torch.uint8)  # (n, row); the lit bits are the low 7
        return (lit_rows[:, None, :] & self._bit[None, :, None]) != 0

    # ------------------------------------------------------------------ resets
    def _reset_envs(
        self,
        index: torch.Tensor,
        chosen: torch.Tensor | None = None,
        chosen_levels: torch.Tensor | None = None,
    ) -> None:
        """New episodes in envs ``index``: params ``chosen`` (``(k, dim)``, checked; the pending
        slots stay) with levels ``chosen_levels``, else from the pending slot or a draw; then
        layouts."""
        k = len(index)
        if k == 0:
            return
        if chosen is not None:
            self.params.index_copy_(0, index, chosen)
            self.step_count.index_fill_(0, index, 0)
            self.episode_return.index_fill_(0, index, 0.0)
            self.carrying.index_fill_(0, index, 0)
            self._generate_levels(index, chosen, chosen_levels)
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
        levels = None
        if self._levels_used:
            queued = self.pending_level_seed.index_select(0, index)
            levels = torch.where(pending, queued, -1)
            self.pending_level_seed.index_fill_(0, index, -1)
        self.has_pending.index_fill_(0, index, False)
        self.params.index_copy_(0, index, params)
        self.step_count.index_fill_(0, index, 0)
        self.episode_return.index_fill_(0, index, 0.0)
        self.carrying.index_fill_(0, index, 0)
        self._generate_levels(index, params, levels)

    def _generate_levels(
        self, index: torch.Tensor, params: torch.Tensor, levels: torch.Tensor | None
    ) -> None:
        """``_generate`` in batch for envs without a level; one env at a time, from the generator
        reseeded with its level seed, for each env with one (the shared stream then resumes)."""
        if levels is None:
            self._generate(index, params)
            return
        self.level_seed.index_copy_(0, index, levels)
        seeded = levels >= 0
        if not bool(seeded.any()):
            self._generate(index, params)
            return
        plain = (~seeded).nonzero().squeeze(1)
        if len(plain):
            self._generate(index.index_select(0, plain), params.index_select(0, plain))
        shared = self.generator.get_state()
        for row in seeded.nonzero().squeeze(1).tolist():
            self.generator.manual_seed(int(levels[row]))
            self._generate(index[row : row + 1], params[row : row + 1])
        self.generator.set_state(shared)

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

    def _check_mask(self, mask: Any) -> torch.Tensor:
        array = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
        if array.dtype != np.bool_ or array.shape != (self.num_envs,):
            raise ValueError(f"reset_mask must be a ({self.num_envs},) bool array; got {mask!r}")
        return torch.as_tensor(array, device=self.device)

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

    def _check_level_seeds(self, seeds: Any, count: int) -> torch.Tensor:
        """``seeds`` as a ``(count,)`` int64 tensor of level seeds, ``-1`` meaning none."""
        tensor = self._as_int_tensor("level seeds", seeds, (count,))
        bad = (tensor < -1).nonzero().squeeze(1)
        if len(bad):
            row = int(bad[0])
            raise ValueError(
                f"level seeds must be integers in [0, 2**63 - 1] or -1 (no level); "
                f"got {int(tensor[row])} at row {row}"
            )
        return tensor

    def _as_int_tensor(self, name: str, value: Any, shape: Sequence[int]) -> torch.Tensor:
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        array = np.asarray(array)
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must be integers; got dtype {array.dtype}")
        if array.shape != tuple(shape):
            raise ValueError(f"{name} must have shape {tuple(shape)}; got {array.shape}")
        return torch.as_tensor(array.astype(np.int64), device=self.device)
