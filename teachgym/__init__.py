"""teachgym: curriculum reinforcement learning.

- ``teachgym.envs`` — parameterized Gymnasium envs (``gymnasium.make("teachgym/...")``).
- ``teachgym.teachers`` — ALP-GMM and its peers, choosing each episode's parameters.
- ``teachgym.agents`` — students.

``ParamSpace`` is the contract between them (see ``teachgym.spaces``).
"""

import teachgym.envs  # noqa: F401  (registers the teachgym/ env ids)
from teachgym.spaces import ParamSpace

__version__ = "0.1.0"
__all__ = ["ParamSpace", "__version__"]
