"""BatchedPPO: the network, GAE, truncation bootstrap, acting, saving, seeding and learning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces

from teachgym.agents.base import Agent
from teachgym.agents.ppo import BatchedPPO, GridActorCritic, PPOConfig
from teachgym.envs.batched import BatchedGridNavigation

SMALL = {"n_steps": 8, "n_epochs": 2, "n_minibatches": 2, "hidden": 16}


def random_obs(n: int, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    image = torch.stack(
        [
            torch.randint(0, 11, (n, 7, 7), generator=generator),
            torch.randint(0, 6, (n, 7, 7), generator=generator),
            torch.randint(0, 3, (n, 7, 7), generator=generator),
        ],
        dim=-1,
    ).to(torch.uint8)
    return {"image": image, "direction": torch.randint(0, 4, (n,), generator=generator)}


def test_mlp_network_is_the_one_hot_mlp_of_grid_flat_obs() -> None:
    """The EmbeddingBag first layer equals a Linear layer on GridFlatObs's one-hot vector."""
    network = GridActorCritic("mlp", 16, generator=torch.Generator().manual_seed(0))
    obs = random_obs(5)
    one_hot = torch.zeros(5, 984)
    codes = obs["image"].reshape(5, 49, 3).long()
    for cell in range(49):
        for channel, start in enumerate((0, 11, 17)):
            one_hot[torch.arange(5), cell * 20 + start + codes[:, cell, channel]] = 1.0
    one_hot[torch.arange(5), 980 + obs["direction"]] = 1.0
    first = one_hot @ network.first.weight + network.first_bias
    logits, value = network(obs["image"], obs["direction"])
    torch.testing.assert_close(logits, network.actor(first[:, :16]))
    torch.testing.assert_close(value, network.critic(first[:, 16:]).squeeze(1))


@pytest.mark.parametrize("network", ["mlp", "cnn"])
def test_networks_give_one_logit_row_and_value_per_observation(network: str) -> None:
    model = GridActorCritic(network, 8)
    obs = random_obs(3)
    logits, value = model(obs["image"], obs["direction"])
    assert logits.shape == (3, 7) and value.shape == (3,)


def test_initial_weights_depend_on_the_seed_only_and_leave_global_rng_alone() -> None:
    before = torch.get_rng_state()
    first = BatchedPPO(None, SMALL, seed=3)
    second = BatchedPPO(None, SMALL, seed=3)
    other = BatchedPPO(None, SMALL, seed=4)
    assert torch.equal(torch.get_rng_state(), before)
    for a, b in zip(first.policy.parameters(), second.policy.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(first.policy.first.weight, other.policy.first.weight)


def test_gae_matches_a_plain_reference() -> None:
    env = BatchedGridNavigation(4, seed=0)
    model = BatchedPPO(env, SMALL, seed=0)
    model.collect_rollout()
    buffers = model._buffers
    assert buffers is not None
    generator = torch.Generator().manual_seed(1)
    buffers["rewards"].copy_(torch.rand(8, 4, generator=generator))
    buffers["values"].copy_(torch.rand(8, 4, generator=generator))
    buffers["dones"].copy_(torch.rand(8, 4, generator=generator) < 0.3)
    advantages, returns = model._advantages()
    with torch.no_grad():
        _, last = model.policy(model._obs["image"], model._obs["direction"])  # type: ignore[index]
    rewards, values = buffers["rewards"].numpy(), buffers["values"].numpy()
    dones, gamma, lam = buffers["dones"].numpy(), 0.99, 0.95
    expected = np.zeros((8, 4))
    for env_index in range(4):
        running = 0.0
        for t in reversed(range(8)):
            following = last[env_index].item() if t == 7 else values[t + 1, env_index]
            alive = 0.0 if dones[t, env_index] else 1.0
            delta = rewards[t, env_index] + gamma * following * alive - values[t, env_index]
            running = delta + gamma * lam * alive * running
            expected[t, env_index] = running
    np.testing.assert_allclose(advantages.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(returns.numpy(), expected + values, rtol=1e-5, atol=1e-6)


class TruncatingEnv:
    """Every episode is one step long and truncated (never terminated), reward 0."""

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self.device = torch.device("cpu")
        self.single_action_space = spaces.Discrete(7)
        self.final = random_obs(num_envs, seed=5)
        self.fresh = random_obs(num_envs, seed=6)

    def reset(self, **_: Any) -> Any:
        return self.fresh, {}

    def step(self, actions: torch.Tensor) -> Any:
        n = self.num_envs
        truncated = torch.ones(n, dtype=torch.bool)
        info = {"final_obs": self.final, "_final_obs": truncated}
        return self.fresh, torch.zeros(n), torch.zeros(n, dtype=torch.bool), truncated, info


def test_truncated_episodes_bootstrap_from_their_last_observation() -> None:
    env = TruncatingEnv(6)
    model = BatchedPPO(env, SMALL, seed=0)
    model.collect_rollout()
    with torch.no_grad():
        _, final_value = model.policy(env.final["image"], env.final["direction"])
    assert model._buffers is not None
    for t in range(8):
        torch.testing.assert_close(model._buffers["rewards"][t], 0.99 * final_value)
    assert bool(model._buffers["dones"].all())


def test_predict_takes_minigrid_observations_batched_or_single() -> None:
    model = BatchedPPO(None, SMALL, seed=0)
    obs = random_obs(4)
    batch = {"image": obs["image"].numpy(), "direction": obs["direction"].numpy(), "mission": "x"}
    actions, state = model.predict(batch, deterministic=True)
    assert actions.shape == (4,) and actions.dtype == np.int64 and state is None
    single = {"image": batch["image"][1], "direction": int(batch["direction"][1])}
    action, _ = model.predict(single, deterministic=True)
    assert np.ndim(action) == 0 and action == actions[1]
    assert isinstance(model, Agent)


@pytest.mark.parametrize(
    ("observation", "match"),
    [
        (np.zeros((7, 7, 3)), "MiniGrid-style dict"),
        ({"image": np.zeros((4, 5, 5, 3), np.uint8), "direction": np.zeros(4)}, r"\(7, 7, 3\)"),
        ({"image": np.full((2, 7, 7, 3), 11, np.uint8), "direction": np.zeros(2)}, "codes"),
        ({"image": np.zeros((2, 7, 7, 3), np.uint8), "direction": np.array([0, 4])}, "direction"),
    ],
)
def test_predict_rejects_what_is_not_a_minigrid_observation(observation: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        BatchedPPO(None, SMALL).predict(observation)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_step": 8}, "unknown PPO hyperparameter"),
        ({"n_steps": 0}, "n_steps"),
        ({"gamma": 1.5}, "gamma"),
        ({"clip_range": 0.0}, "clip_range"),
        ({"network": "rnn"}, "network"),
        ({"anneal_lr": "yes"}, "anneal_lr"),
        ({"learning_rate": -1.0}, "learning_rate"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PPOConfig.from_kwargs(kwargs)


def test_save_and_load_give_the_same_policy_and_state(tmp_path: Any) -> None:
    env = BatchedGridNavigation(8, seed=0)
    model = BatchedPPO(env, SMALL, seed=0)
    model.learn(8 * 8 * 2)
    path = model.save(tmp_path / "model.zip")
    loaded = BatchedPPO.load(path, env=BatchedGridNavigation(8, seed=0))
    assert loaded.num_timesteps == model.num_timesteps == 128
    assert loaded.num_updates == model.num_updates == 2
    obs = random_obs(16, seed=2)
    batch = {key: value.numpy() for key, value in obs.items()}
    np.testing.assert_array_equal(
        loaded.predict(batch, deterministic=True)[0], model.predict(batch, deterministic=True)[0]
    )
    # The generator continues where it was: the same stochastic actions.
    np.testing.assert_array_equal(loaded.predict(batch)[0], model.predict(batch)[0])


def test_loading_something_else_is_a_clear_error(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError):
        BatchedPPO.load(tmp_path / "missing.zip")
    other = tmp_path / "other.zip"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match="not a saved BatchedPPO"):
        BatchedPPO.load(other)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a saved BatchedPPO"):
        BatchedPPO.load(tmp_path / "junk.zip")


def test_learning_is_reproducible_from_the_seed() -> None:
    def run() -> torch.Tensor:
        model = BatchedPPO(BatchedGridNavigation(8, seed=1), SMALL, seed=2)
        model.learn(8 * 8 * 3)
        return torch.cat([p.detach().reshape(-1) for p in model.policy.parameters()])

    torch.testing.assert_close(run(), run(), rtol=0, atol=0)


def test_learning_rate_decays_linearly_to_zero() -> None:
    model = BatchedPPO(BatchedGridNavigation(4, seed=0), {**SMALL, "learning_rate": 1e-3}, seed=0)
    model.learn(4 * 8 * 4)
    assert model.last_metrics["learning_rate"] == pytest.approx(1e-3 * 1 / 4)


def test_ppo_learns_to_reach_a_goal_in_the_easiest_layouts() -> None:
    """On the easiest GridNavigation params, the mean return rises well above a random
    policy's within a few thousand steps."""
    env = BatchedGridNavigation(64, seed=0)
    easy = torch.tensor(env.param_space.low.copy(), dtype=torch.float64).repeat(64, 1)

    def mean_return(model: BatchedPPO, episodes: int = 256) -> float:
        play = BatchedGridNavigation(64, seed=7)
        obs, _ = play.reset(options={"params": easy})
        total, count = 0.0, 0
        while count < episodes:
            with torch.no_grad():
                logits, _ = model.policy(obs["image"], obs["direction"])
            obs, _, terminated, truncated, info = play.step(model._sample(logits))
            done = terminated | truncated
            if bool(done.any()):
                total += float(info["final_return"][done].sum())
                count += int(done.sum())
                play.set_next_params(done.nonzero().squeeze(1), easy[: int(done.sum())])
        return total / count

    model = BatchedPPO(env, {"n_steps": 16, "n_minibatches": 4, "learning_rate": 1e-3}, seed=0)
    before = mean_return(model)

    class EasyOnly:
        def on_rollout_start(self, agent: BatchedPPO) -> None:
            pass

        def on_step(self, agent: BatchedPPO, info: dict[str, Any], done: torch.Tensor) -> None:
            env.set_next_params(torch.arange(64), easy, check=False)

        def on_rollout_end(self, agent: BatchedPPO) -> bool:
            return True

    obs, _ = env.reset(options={"params": easy})
    model.set_observation(obs)
    model.learn(64 * 16 * 30, callback=EasyOnly(), reset_num_timesteps=False)
    after = mean_return(model)
    assert after > before + 0.2, (before, after)


def test_one_hot_first_layer_has_embedding_bags_gradient() -> None:
    network = GridActorCritic("mlp", 8, generator=torch.Generator().manual_seed(0))
    obs = random_obs(6, seed=3)
    logits, value = network(obs["image"], obs["direction"])
    (logits.square().sum() + value.sum()).backward()
    ours = network.first.weight.grad.clone()  # type: ignore[union-attr]
    network.zero_grad()
    codes = torch.cat(
        [
            obs["image"].reshape(6, -1).long() + network._code_offset,
            obs["direction"][:, None] + 980,
        ],
        dim=1,
    )
    first = network.first(codes) + network.first_bias
    logits = network.actor(first[:, :8])
    value = network.critic(first[:, 8:]).squeeze(1)
    (logits.square().sum() + value.sum()).backward()
    torch.testing.assert_close(ours, network.first.weight.grad)
