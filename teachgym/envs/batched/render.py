"""RGB frames of one sub-env of a batched grid env, drawn with MiniGrid's tiles (issue 13, item 5).

``render_rgb(env, index)`` decodes env ``index``'s ``(object, colour, state)`` codes into a
``minigrid.core.grid.Grid`` and renders it as ``MiniGridEnv.get_frame`` does by default (the whole
grid, the agent's triangle, the cells it sees highlighted), so a frame of the batched env equals
the MiniGrid-based env's ``render()`` for the same layout. MiniGrid is imported only when a frame is
drawn: the batched package itself never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from teachgym.checks import check_int
from teachgym.envs.batched.base import DIR_TO_VEC, VIEW_SIZE

if TYPE_CHECKING:
    from teachgym.envs.batched.base import BatchedGridEnv

__all__ = ["TILE_PIXELS", "render_rgb"]

#: MiniGrid's default tile size in pixels (``minigrid.core.constants.TILE_PIXELS``).
TILE_PIXELS = 32


def render_rgb(
    env: BatchedGridEnv, index: int, tile_size: int = TILE_PIXELS, highlight: bool = True
) -> np.ndarray:
    """The RGB frame of sub-env ``index``, with MiniGrid's tiles.

    Args:
        env: A batched grid env (any device; the one env's state is copied to the CPU).
        index: Which sub-env, in ``[0, env.num_envs)``.
        tile_size: Pixels per grid cell (MiniGrid's default 32).
        highlight: Whether the cells the agent sees are drawn lighter, as MiniGrid does by default.

    Returns:
        ``(grid_height * tile_size, grid_width * tile_size, 3)`` uint8, the layout MiniGrid's
        ``get_frame`` returns (rows are ``y``).

    Raises:
        ValueError: ``index`` or ``tile_size`` out of range.
        ImportError: MiniGrid is not installed (the ``grid`` extra).
    """
    index = check_int("index", index, minimum=0)
    if index >= env.num_envs:
        raise ValueError(f"index must be in [0, {env.num_envs}); got {index}")
    tile_size = check_int("tile_size", tile_size, minimum=1)
    try:
        from minigrid.core.grid import Grid
    except ImportError as error:
        raise ImportError(
            'rendering a batched grid env needs MiniGrid: pip install "teachgym[grid]"'
        ) from error

    one = slice(index, index + 1)
    codes = env.grid[one].cpu().numpy()[0].transpose(1, 2, 0)  # (W, H, 3), as Grid.encode
    agent_x, agent_y = (int(v) for v in env.agent_pos[index].tolist())
    agent_dir = int(env.agent_dir[index])
    grid, _ = Grid.decode(codes)
    # The agent's view with MiniGrid's visibility, as the env observes it: cells it does not see
    # encode as object 0 (its own cell always shows what it carries, else empty).
    view = env._image(env.grid[one], env.agent_pos[one], env.agent_dir[one], env.carrying[one])
    seen = view[0, :, :, 0].cpu().numpy() != 0  # [column, row]

    # MiniGridEnv.get_full_render: view cell (column i, row j) is at
    # top_left - forward * j + right * i, with top_left the far-left corner of the view.
    forward = np.array(DIR_TO_VEC[agent_dir])
    right = np.array((-forward[1], forward[0]))
    top_left = np.array((agent_x, agent_y)) + forward * (VIEW_SIZE - 1) - right * (VIEW_SIZE // 2)
    highlight_mask = np.zeros((env.grid_width, env.grid_height), dtype=bool)
    for row in range(VIEW_SIZE):
        for column in range(VIEW_SIZE):
            if not seen[column, row]:
                continue
            cell_x, cell_y = top_left - forward * row + right * column
            if 0 <= cell_x < env.grid_width and 0 <= cell_y < env.grid_height:
                highlight_mask[cell_x, cell_y] = True
    frame = grid.render(
        tile_size,
        (agent_x, agent_y),
        agent_dir,
        highlight_mask=highlight_mask if highlight else None,
    )
    return np.asarray(frame, dtype=np.uint8)
