"""Students: stable-baselines3 integration, Go-Explore and Adversarial Surprise.

``teachgym.agents.sb3`` builds any stable-baselines3 algorithm by name (``build_model("ppo",
venv)``) and resolves ``device="auto"``; envs come from ``teachgym.envs.make_env``; training
with a teacher, run folders and resume live in ``teachgym.training``. The names below load
stable-baselines3 (and torch) on first use only: the ``train`` extra is optional.

``Agent`` (``teachgym.agents.base``) is the protocol every student meets (see
``docs/design.md``, "Agents"). Go-Explore lives in ``teachgym.agents.go_explore`` (``GoExplore``,
cell functions, phase 2's backward algorithm); Adversarial Surprise in
``teachgym.agents.adversarial_surprise``.
"""

from typing import Any

from teachgym.agents.base import Agent

_ADVERSARIAL_SURPRISE = ("AdversarialSurprise", "AdversarialSurpriseConfig", "SMiRL")
_GO_EXPLORE = ("GoExplore",)

__all__ = [
    "AdversarialSurprise",
    "AdversarialSurpriseConfig",
    "Agent",
    "GoExplore",
    "SMiRL",
    "algorithm_class",
    "available_algorithms",
    "build_model",
    "load_model",
    "register_algorithm",
    "resolve_device",
]


def __getattr__(name: str) -> Any:
    if name in _ADVERSARIAL_SURPRISE:
        from teachgym.agents import adversarial_surprise

        return getattr(adversarial_surprise, name)
    if name in _GO_EXPLORE:
        from teachgym.agents import go_explore

        return getattr(go_explore, name)
    if name in __all__:
        from teachgym.agents import sb3

        return getattr(sb3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
