"""Go-Explore (Ecoffet et al. 2019/2021): cell archive, state restore, PPO robustification.

Ecoffet et al. 2019, "Go-Explore: a New Approach for Hard-Exploration Problems"
(arXiv:1901.10995) and 2021, "First return, then explore" (Nature 590). Modules, each importing
only those after it: ``plots`` (pictures of a run), ``agent`` (``GoExplore``: phase 1, save and
load), ``robustify`` (phase 2 on stable-baselines3's PPO, imported on first use), ``demonstrations``
(phase 2's plain-data input), ``archive`` and ``cells``.
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
from teachgym.agents.go_explore.demonstrations import Demonstrations

__all__ = [
    "Archive",
    "CellFn",
    "CellView",
    "Demonstrations",
    "DownscaledCell",
    "ExploreStats",
    "GoExplore",
    "MiniGridCell",
    "MontezumaCell",
    "make_cell_fn",
    "make_go_explore_env",
]
