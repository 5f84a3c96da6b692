"""Go-Explore (Ecoffet et al. 2019/2021): cell archive, state restore, PPO robustification.

See ``teachgym.agents.go_explore.agent`` for the algorithm and issue 5 for what it must show.
"""

from teachgym.agents.go_explore.agent import ExploreStats, GoExplore, make_go_explore_env
from teachgym.agents.go_explore.archive import Archive, CellView
from teachgym.agents.go_explore.cells import (
    CellFn,
    DownscaledCell,
    MiniGridCell,
    MontezumaCell,
    make_cell_fn,
)

__all__ = [
    "Archive",
    "CellFn",
    "CellView",
    "DownscaledCell",
    "ExploreStats",
    "GoExplore",
    "MiniGridCell",
    "MontezumaCell",
    "make_cell_fn",
    "make_go_explore_env",
]
