"""The agent contract (``teachgym.agents.base.Agent``): SB3's PPO, ``GoExplore`` and
``AdversarialSurprise`` meet it, and ``evaluate`` needs nothing more than it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401  (registers MiniGrid-* ids)
import numpy as np
import pytest
from stable_baselines3 import PPO

from teachgym.agents.adversarial_surprise import AdversarialSurprise
from teachgym.agents.base import Agent
from teachgym.agents.go_explore import GoExplore
from teachgym.training.evaluation import evaluate

CONTRACT = ("learn", "predict", "save", "load")


def _ppo() -> PPO:
    env = gym.make("CartPole-v1")
    return PPO("MlpPolicy", env, n_steps=16, batch_size=16, policy_kwargs={"net_arch": [8]})


def _go_explore() -> GoExplore:
    return GoExplore("MiniGrid-Empty-5x5-v0", cell_fn="minigrid", seed=0)


def _adversarial_surprise() -> AdversarialSurprise:
    return AdversarialSurprise(
        "teachgym/NoisyRooms-v0",
        env_params={"num_rooms": 2, "room_size": 5, "noisy_fraction": 0.5, "noise_prob": 1.0},
        seed=0,
        device="cpu",
        n_envs=1,
        episode_length=16,
        num_rounds=4,
        density="categorical",
        batch_size=8,
        n_epochs=1,
        net_arch=[8],
    )


AGENTS = {"ppo": _ppo, "go_explore": _go_explore, "adversarial_surprise": _adversarial_surprise}


def _mismatches(expected: inspect.Signature, actual: inspect.Signature) -> list[str]:
    """How ``actual`` fails to accept every call ``expected`` allows (empty when it does).

    The protocol's parameters must come first, in order, with the same names, kinds and
    defaults; any further parameter needs a default (or is ``*args``/``**kwargs``).
    """
    problems = []
    params = list(actual.parameters.values())
    for index, wanted in enumerate(expected.parameters.values()):
        if index >= len(params):
            problems.append(f"missing parameter {wanted.name!r}")
            continue
        got = params[index]
        if got.name != wanted.name:
            problems.append(f"parameter {index} is {got.name!r}, expected {wanted.name!r}")
        elif got.kind is not wanted.kind:
            problems.append(
                f"{got.name!r} is {got.kind.description}, not {wanted.kind.description}"
            )
        elif got.default != wanted.default:
            problems.append(f"{got.name!r} defaults to {got.default!r}, not {wanted.default!r}")
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    for extra in params[len(expected.parameters) :]:
        if extra.kind not in variadic and extra.default is inspect.Parameter.empty:
            problems.append(f"extra parameter {extra.name!r} has no default")
    return problems


@pytest.fixture(scope="module", params=sorted(AGENTS))
def agent(request: pytest.FixtureRequest) -> Any:
    return AGENTS[request.param]()


def test_agents_are_instances_of_the_runtime_checkable_protocol(agent):
    assert isinstance(agent, Agent)


@pytest.mark.parametrize("method", CONTRACT)
def test_agents_take_the_protocols_parameters(agent, method):
    # A classmethod's signature, taken from the class, already leaves out ``cls``.
    expected = inspect.signature(getattr(Agent, method))
    actual = inspect.signature(getattr(type(agent), method))
    assert _mismatches(expected, actual) == []
    if method == "load":
        assert isinstance(inspect.getattr_static(type(agent), "load"), classmethod)


def test_predict_takes_what_evaluate_passes(agent):
    """``evaluate`` calls ``model.predict(batch, deterministic=...)``."""
    parameters = list(inspect.signature(type(agent).predict).parameters.values())
    assert parameters[1].name == "observation"
    assert parameters[1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert "deterministic" in inspect.signature(agent.predict).parameters


def test_the_signature_check_catches_a_renamed_or_missing_parameter():
    def renamed(self, obs, state=None, episode_start=None, deterministic=False): ...
    def no_state(self, observation, deterministic=False): ...
    def required_extra(self, total_timesteps, callback=None, *, log_dir): ...

    expected = inspect.signature(Agent.predict)
    assert _mismatches(expected, inspect.signature(renamed))
    assert _mismatches(expected, inspect.signature(no_state))
    assert _mismatches(inspect.signature(Agent.learn), inspect.signature(required_extra))


class FixedActionAgent:
    """The smallest agent: meets the protocol and always moves forward."""

    def __init__(self, action: int = 2) -> None:  # MiniGrid's "forward"
        self.action = action

    def learn(self, total_timesteps: int, callback: Any = None) -> FixedActionAgent:
        return self

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, None]:
        batch = len(
            next(iter(observation.values())) if isinstance(observation, dict) else observation
        )
        return np.full(batch, self.action), None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(str(self.action))

    @classmethod
    def load(cls, path: str | Path) -> FixedActionAgent:
        return cls(int(Path(path).read_text()))


def test_evaluate_runs_an_agent_that_only_meets_the_protocol(tmp_path):
    agent = FixedActionAgent()
    assert isinstance(agent, Agent)
    agent.save(tmp_path / "agent.txt")
    loaded = FixedActionAgent.load(tmp_path / "agent.txt")
    # Goal one step ahead (reached: mastered); lava everywhere (burnt); a wall ahead of a far goal
    # (bumped into until the time limit). Three episodes in two envs: a batch of 2, then of 1.
    tasks = np.array([[5.0, 0.0, 0.0, 0.0], [15.0, 1.0, 0.5, 0.6], [8.0, 1.0, 0.0, 0.0]])
    result = evaluate(loaded.learn(0), "teachgym/GridNavigation-v0", tasks=tasks, n_envs=2)
    assert result.returns.shape == (3, 1)
    assert result.returns[0, 0] > 0.9 and result.returns[1, 0] == result.returns[2, 0] == 0.0
    assert result.mastered.tolist() == [True, False, False]
