"""Train Adversarial Surprise on noisy rooms, save it, load it back and measure its coverage.

Explore and Control (Fickinger et al. 2021) share one body in ``teachgym/NoisyRooms-v0``: four
rooms in a chain, half of them with a floor that flickers until the agent opens the room's box.
Control is rewarded for observations a density model of the episode predicts well (so it learns
to switch the noise off or look away from it); Explore for putting Control where that is hard.

    python examples/adversarial_surprise_rooms.py                    # ~2 minutes on one core
    python examples/adversarial_surprise_rooms.py --steps 1000000 --out runs/as-rooms
    tensorboard --logdir runs/as-rooms/tensorboard

The script prints the coverage of the trained agent next to a random policy's on the same 20
layouts: rooms visited per episode, distinct cells, and the fraction of noisy rooms frozen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from teachgym.agents.adversarial_surprise import (
    AdversarialSurprise,
    RandomPolicy,
    evaluate_coverage,
    make_coverage_env,
    mean_coverage,
)

ENV_ID = "teachgym/NoisyRooms-v0"
PARAMS = {"num_rooms": 4, "room_size": 6, "noisy_fraction": 0.5, "noise_prob": 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps to train for")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=Path("runs/as-rooms"))
    parser.add_argument("--eval-episodes", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)

    agent = AdversarialSurprise(
        ENV_ID,
        env_params=PARAMS,  # every episode: 4 rooms of side 6, half of them noisy
        episode_length=128,  # 4 rounds of 32 steps: Explore, Control, Explore, Control
        seed=args.seed,
        device=args.device,
        tensorboard_log=str(args.out / "tensorboard"),
    )
    print(agent)
    agent.learn(args.steps, progress_bar=True)
    last = agent.metrics_history[-1]
    print(
        f"last rollout: Control's log p per scored step {last['control_log_prob']:.1f}, "
        f"rooms visited {last['rooms_visited']:.2f}, noisy rooms frozen "
        f"{last['noisy_frozen_fraction']:.2f}"
    )
    folder = agent.save(args.out / "agent")
    agent.close()  # its training envs
    loaded = AdversarialSurprise.load(folder, device=args.device)  # the env comes from its id

    def make_eval_env():  # the training env: fixed params, 128-step episodes, coverage tracking
        return make_coverage_env(ENV_ID, None, PARAMS, episode_length=128)

    for name, policy in (
        ("Adversarial Surprise", loaded),
        ("random policy", RandomPolicy(loaded.action_space, seed=args.seed)),
    ):
        means = mean_coverage(evaluate_coverage(policy, make_eval_env, args.eval_episodes))
        print(
            f"{name:>21}: rooms visited {means['rooms_visited']:.2f}, cells visited "
            f"{means['cells_visited']:.1f}, noisy rooms frozen {means['noisy_frozen_fraction']:.2f}"
        )
    loaded.close()


if __name__ == "__main__":
    main()
