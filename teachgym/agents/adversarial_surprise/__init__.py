"""Adversarial Surprise and its baselines.

Fickinger, Jaques, Parajuli, Chang, Rhinehart, Berseth, Russell and Levine (2021), "Explore and
Control with Adversarial Surprise", arXiv:2107.07394. Two PPO policies share one body and one
episode: Explore seeks observations that surprise Control; Control returns to states a density
model, refitted within the episode, predicts well.

=============================  =================================================================
module                         what
=============================  =================================================================
``agent``                      ``AdversarialSurprise`` (``learn``/``predict``/``save``/``load``)
``game``                       round schedule, observation adapters, the game's bookkeeping
``density``                    categorical and Gaussian density models, ``register_density_model``
``normalization``              reward scaling by the running std of returns
``smirl``                      ``SMiRL``: Control alone (surprise minimisation baseline)
``rnd``                        RND intrinsic reward as an SB3 ``VecEnvWrapper``, the PPO baseline
``metrics``                    coverage per episode (rooms, cells, frozen noise, time by the TV)
``envs``                       the same env for every method, with coverage tracking
=============================  =================================================================
"""

from teachgym.agents.adversarial_surprise.agent import (
    AdversarialSurprise,
    AdversarialSurpriseConfig,
    GameState,
    SeededRolloutBuffer,
)
from teachgym.agents.adversarial_surprise.density import (
    CategoricalDensity,
    DensityModel,
    GaussianDensity,
    available_density_models,
    make_density_model,
    register_density_model,
)
from teachgym.agents.adversarial_surprise.envs import (
    env_factory,
    make_coverage_env,
    with_coverage,
)
from teachgym.agents.adversarial_surprise.game import (
    CONTROL,
    EXPLORE,
    BoxAdapter,
    MiniGridAdapter,
    ObservationAdapter,
    RoundSchedule,
    SurpriseGame,
    make_adapter,
)
from teachgym.agents.adversarial_surprise.metrics import (
    CoverageLoggerCallback,
    CoverageMonitor,
    EpisodeCoverage,
    RandomPolicy,
    evaluate_coverage,
    mean_coverage,
)
from teachgym.agents.adversarial_surprise.normalization import ReturnNormalizer
from teachgym.agents.adversarial_surprise.rnd import RNDRewardWrapper, build_rnd_ppo
from teachgym.agents.adversarial_surprise.smirl import SMiRL
from teachgym.envs import FixedParams

__all__ = [
    "CONTROL",
    "EXPLORE",
    "AdversarialSurprise",
    "AdversarialSurpriseConfig",
    "BoxAdapter",
    "CategoricalDensity",
    "CoverageLoggerCallback",
    "CoverageMonitor",
    "DensityModel",
    "EpisodeCoverage",
    "FixedParams",
    "GameState",
    "GaussianDensity",
    "MiniGridAdapter",
    "ObservationAdapter",
    "RNDRewardWrapper",
    "RandomPolicy",
    "ReturnNormalizer",
    "RoundSchedule",
    "SMiRL",
    "SeededRolloutBuffer",
    "SurpriseGame",
    "available_density_models",
    "build_rnd_ppo",
    "env_factory",
    "evaluate_coverage",
    "make_adapter",
    "make_coverage_env",
    "make_density_model",
    "mean_coverage",
    "register_density_model",
    "with_coverage",
]
