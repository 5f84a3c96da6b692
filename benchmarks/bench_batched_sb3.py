"""End-to-end SB3 PPO steps/s: batched envs through ``BatchedSB3VecEnv`` vs ``DummyVecEnv``.

Both runs use the same PPO settings (``MlpPolicy`` on ``GridFlatObs``-equal 984-value
observations, the same rollout size, minibatch and epochs) in the same process with one torch
thread; only the envs differ:

- ``dummy``: ``--dummy-envs`` (8) ``DummyVecEnv`` envs of ``teachgym/GridNavigation-v0`` wrapped
  in ``GridFlatObs``, ``n_steps = rollout / dummy_envs``;
- ``batched``: ``--batched-envs`` (256) ``BatchedGridNavigation`` envs through the adapter,
  ``n_steps = rollout / batched_envs``.

Usage: ``python benchmarks/bench_batched_sb3.py [--rollout 2048] [--rollouts 4]
[--batched-envs 256] [--dummy-envs 8] [--n-epochs 4] [--batch-size 256]``. Not a test.
"""

from __future__ import annotations

import argparse
import time
import warnings

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

import teachgym  # noqa: F401  (registers the env ids)
from teachgym.envs.batched import BatchedGridNavigation
from teachgym.envs.batched.sb3 import BatchedSB3VecEnv
from teachgym.envs.wrappers import GridFlatObs


def steps_per_second(venv: VecEnv, args: argparse.Namespace) -> tuple[float, float]:
    """PPO ``learn`` steps/s over ``args.rollouts`` rollouts (after one warm-up rollout), and the
    share of that time spent collecting rollouts (env steps and policy forward passes)."""
    n_steps = args.rollout // venv.num_envs
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=n_steps,
        batch_size=args.batch_size,
        n_epochs=args.n_epochs,
        seed=0,
        device="cpu",
    )
    model.learn(total_timesteps=args.rollout)  # warm-up: first allocations, first reset
    collect = 0.0
    original = model.collect_rollouts

    def timed_collect(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal collect
        start = time.perf_counter()
        result = original(*a, **k)
        collect += time.perf_counter() - start
        return result

    model.collect_rollouts = timed_collect  # type: ignore[method-assign]
    start = time.perf_counter()
    model.learn(total_timesteps=args.rollout * args.rollouts, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    return args.rollout * args.rollouts / elapsed, collect / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollout", type=int, default=2048, help="env steps per PPO rollout")
    parser.add_argument("--rollouts", type=int, default=4, help="timed rollouts per run")
    parser.add_argument("--batched-envs", type=int, default=256)
    parser.add_argument("--dummy-envs", type=int, default=8)
    parser.add_argument("--n-epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)

    dummy = DummyVecEnv(
        [lambda: GridFlatObs(gym.make("teachgym/GridNavigation-v0"))] * args.dummy_envs
    )
    dummy.seed(0)
    batched = BatchedSB3VecEnv(BatchedGridNavigation(args.batched_envs, seed=0))
    print(
        f"PPO MlpPolicy, rollout {args.rollout} steps, batch {args.batch_size}, "
        f"{args.n_epochs} epochs, {args.rollouts} timed rollouts, 1 torch thread"
    )
    results = {}
    for name, venv in (("dummy", dummy), ("batched", batched)):
        rate, collect_share = steps_per_second(venv, args)
        results[name] = rate
        print(
            f"{name:8s} {venv.num_envs:5d} envs × n_steps {args.rollout // venv.num_envs:4d}: "
            f"{rate:8.0f} steps/s end to end ({collect_share:.0%} in collect_rollouts)"
        )
    print(f"speed-up: {results['batched'] / results['dummy']:.1f}×")


if __name__ == "__main__":
    main()
