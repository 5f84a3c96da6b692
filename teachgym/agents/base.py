"""The contract every student meets: stable-baselines3's ``learn``, ``predict``, ``save``, ``load``.

Any stable-baselines3 algorithm meets it as it is, and so do ``GoExplore`` and
``AdversarialSurprise``: a trainer, ``teachgym.training.evaluate`` or a user's script can hold any
of them without knowing which. A new agent does not subclass anything: it meets ``Agent`` by
having these four methods with these parameters (extra parameters must have defaults), and
``isinstance(agent, Agent)`` checks that the names are there. See the design page
``docs/design.md``, section "Agents".

What ``evaluate`` relies on: ``predict(observations, deterministic=...)`` with a batch (one row
per env, or a dict of such arrays for dict observations) returns ``(actions, state)`` with one
action per row, which it passes to each env's ``step``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from typing import Self

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """A student: learns in an env, then acts. stable-baselines3's ``BaseAlgorithm`` verbs.

    ``isinstance`` checks only that the four methods exist; their parameters are the ones below,
    by name, so callers may pass them by keyword.
    """

    def learn(self, total_timesteps: int, callback: Any = None) -> Self:
        """Train for (at least) ``total_timesteps`` env steps; returns the agent.

        Args:
            total_timesteps: Env steps to train for.
            callback: Called during training; its form is the agent's own (an SB3
                ``BaseCallback`` for SB3 algorithms). ``None``: no callback.
        """
        ...

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, Any]:
        """The action(s) for ``observation``, and the recurrent state to pass back next call.

        Args:
            observation: One observation or a batch (one row per env).
            state: The previous call's state (recurrent agents); ``None`` to start.
            episode_start: One boolean per env: whether ``observation`` starts an episode.
            deterministic: The most likely action instead of a sample.

        Returns:
            ``(action, state)``; ``action`` has one row per env when given a batch.
        """
        ...

    def save(self, path: str | Path) -> object:
        """Write the agent to ``path`` (a file or a folder, as the agent chooses)."""
        ...

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """The agent ``save`` wrote to ``path`` (agents may take more, optional, arguments)."""
        ...
