"""SMiRL: surprise minimisation (Berseth et al. 2021, "SMiRL: Surprise Minimizing Reinforcement
Learning in Unstable Environments", ICLR), the Control player of Adversarial Surprise alone.

SMiRL fits a density model to the observations of the current episode and rewards the agent with
``log p_θ(o_{t+1})`` under the model fitted so far; the agent observes (o, θ, t) (§3, the
"augmented" MDP). That is exactly Adversarial Surprise's Control player given the whole episode:
one Control round, every step scored. So ``SMiRL`` is ``AdversarialSurprise`` with that schedule
fixed, sharing its density models, game loop, PPO training, reward normalisation, ``predict``,
``save`` and ``load`` (Fickinger et al. 2021 use SMiRL as their surprise-minimising baseline).
"""

from __future__ import annotations

from typing import Any, ClassVar

from teachgym.agents.adversarial_surprise.agent import AdversarialSurprise
from teachgym.agents.adversarial_surprise.game import CONTROL

__all__ = ["SMiRL"]


class SMiRL(AdversarialSurprise):
    """Surprise minimisation: one PPO policy rewarded with ``log p(o)`` on every step.

    Takes ``AdversarialSurprise``'s arguments except the schedule fields it fixes
    (``num_rounds=1``, ``first_player="control"``, ``control_reward_start=0``); passing any of
    them raises ``ValueError``. The policy is ``agent.players["control"]``.
    """

    fixed_fields: ClassVar[dict[str, Any]] = {
        "num_rounds": 1,
        "first_player": CONTROL,
        "control_reward_start": 0.0,
    }
