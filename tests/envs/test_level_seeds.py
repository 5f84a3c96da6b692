"""Levels (``docs/design.md``, "Parameterized envs"): ``reset(options={"params": p,
"level_seed": s})`` replays the same episode for the same actions whatever the env played before,
``info`` reports the level seed, and an episode without one draws from the env's own stream
exactly as if no level had been played in between."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import teachgym  # noqa: F401 (registers the ids)

ENV_IDS = [
    "teachgym/GridNavigation-v0",
    "teachgym/GridKeyDoor-v0",
    "teachgym/NoisyRooms-v0",
    "teachgym/NoisyTVRooms-v0",
    "teachgym/StumpTracks-v0",
]
STEPS = 12


def play(env: gym.Env, options: dict[str, Any] | None, seed: int | None = None) -> list[Any]:
    """The first observation and ``STEPS`` more under a fixed action sequence, as arrays."""
    obs, _ = env.reset(seed=seed, options=options)
    actions = np.random.default_rng(0)
    trace = [observation_array(obs)]
    for _ in range(STEPS):
        action = fixed_action(env, actions)
        obs, _, terminated, truncated, _ = env.step(action)
        trace.append(observation_array(obs))
        if terminated or truncated:
            break
    return trace


def fixed_action(env: gym.Env, rng: np.random.Generator) -> Any:
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        return int(rng.integers(space.n))
    return rng.uniform(space.low, space.high).astype(space.dtype)


def observation_array(obs: Any) -> np.ndarray:
    return np.asarray(obs["image"] if isinstance(obs, dict) else obs)


def same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.fixture(params=ENV_IDS)
def env(request: pytest.FixtureRequest) -> Any:
    environment = gym.make(request.param)
    yield environment
    environment.close()


def middle(env: gym.Env) -> np.ndarray:
    space = env.unwrapped.param_space  # type: ignore[attr-defined]
    return (space.low + space.high) / 2


def test_a_level_replays_whatever_was_played_before(env: gym.Env) -> None:
    params = middle(env)
    first = play(env, {"params": params, "level_seed": 7}, seed=1)
    play(env, None, seed=2)  # other episodes, another stream
    play(env, {"params": params, "level_seed": 8})
    again = play(env, {"params": params, "level_seed": 7})
    assert same(first, again)
    others = [play(env, {"params": params, "level_seed": s}) for s in (8, 9, 10)]
    assert not all(same(first, other) for other in others), "the level seed changes nothing"


def test_info_reports_the_level_seed_only_for_levels(env: gym.Env) -> None:
    _, info = env.reset(seed=0, options={"params": middle(env), "level_seed": 123})
    assert info["level_seed"] == 123
    assert env.unwrapped.level_seed == 123  # type: ignore[attr-defined]
    _, _, _, _, info = env.step(fixed_action(env, np.random.default_rng(1)))
    assert info["level_seed"] == 123
    _, info = env.reset(options={"params": middle(env)})
    assert "level_seed" not in info and env.unwrapped.level_seed is None  # type: ignore[attr-defined]
    _, _, _, _, info = env.step(fixed_action(env, np.random.default_rng(1)))
    assert "level_seed" not in info


def test_a_level_leaves_the_envs_own_stream_where_it_was(env: gym.Env) -> None:
    plain = [play(env, None, seed=3), play(env, None)]
    interleaved = [play(env, None, seed=3)]
    play(env, {"params": middle(env), "level_seed": 99})
    interleaved.append(play(env, None))
    assert same(plain[0], interleaved[0]) and same(plain[1], interleaved[1])


def test_the_pending_slot_carries_a_level_with_its_params(env: gym.Env) -> None:
    base = env.unwrapped
    params = middle(env)
    expected = play(env, {"params": params, "level_seed": 5}, seed=0)
    base.set_next_params(params, level_seed=5)  # type: ignore[attr-defined]
    assert base.pending_level_seed == 5  # type: ignore[attr-defined]
    assert same(play(env, None), expected)
    assert base.pending_level_seed is None  # type: ignore[attr-defined] # used up
    # New params without a level drop the queued level.
    base.set_next_params(params, level_seed=5)  # type: ignore[attr-defined]
    base.pending_params = params  # type: ignore[attr-defined]
    assert base.pending_level_seed is None  # type: ignore[attr-defined]
    _, info = env.reset()
    assert "level_seed" not in info


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "3", np.float64(2.0)])
def test_bad_level_seeds_raise_and_change_nothing(bad: Any) -> None:
    env = gym.make("teachgym/GridNavigation-v0")
    params = middle(env)
    env.reset(seed=0, options={"params": params, "level_seed": 4})
    base = env.unwrapped
    base.set_next_params(params, level_seed=6)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="level seed must be an integer"):
        env.reset(options={"params": params, "level_seed": bad})
    with pytest.raises(ValueError, match="level seed must be an integer"):
        base.set_next_params(params, level_seed=bad)  # type: ignore[attr-defined]
    assert base.level_seed == 4 and base.pending_level_seed == 6  # type: ignore[attr-defined]
    env.close()


def test_a_level_seed_without_params_is_refused() -> None:
    env = gym.make("teachgym/GridNavigation-v0")
    with pytest.raises(ValueError, match="needs 'params' beside it"):
        env.reset(seed=0, options={"level_seed": 3})
    env.close()


def test_bad_params_beside_a_level_leave_the_running_level_intact() -> None:
    env = gym.make("teachgym/NoisyRooms-v0")
    params = middle(env)
    reference = play(env, {"params": params, "level_seed": 2}, seed=0)
    env.reset(seed=0, options={"params": params, "level_seed": 2})
    with pytest.raises(ValueError):
        env.reset(options={"params": params * 100, "level_seed": 3})
    # The level's episode goes on with its own generator (its noise), as if nothing happened.
    rng = np.random.default_rng(0)
    trace = [reference[0]]
    for _ in range(len(reference) - 1):
        obs, *_ = env.step(fixed_action(env, rng))
        trace.append(observation_array(obs))
    assert same(trace, reference)
    env.close()
