"""ALP-GMM teaching a SAC (or PPO) walker on Stump Tracks, through the training API.

    python examples/train_stump_tracks.py                      # SAC, 50k steps: a smoke run
    python examples/train_stump_tracks.py --algo ppo --steps 200000
    python examples/train_stump_tracks.py --steps 20000000     # the paper's scale (days on CPU)
    python examples/train_stump_tracks.py --resume runs/stump-alp-gmm-sac-s0

Portelas et al. 2019 (§5) train SAC on Stump Tracks (stump height in [0, 3], spacing in
[0, 6]) for 20M steps and report the % of a fixed test set with return > 230. The default
budget here only shows the machinery: a run folder with TensorBoard logs, checkpoints, where
ALP-GMM sampled (with its Gaussians), the learning curve and the mastery map of the 10 × 10
test grid. The same run from the command line:

    teachgym train teachgym/StumpTracks-v0 --algo sac --teacher alp-gmm --steps 50000 \\
        --algo-kwarg learning_starts=2000 --out runs/stump-alp-gmm-sac-s0
"""

from __future__ import annotations

import argparse

from teachgym.training import TrainConfig, resume, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", default="sac", choices=["sac", "ppo", "td3"])
    parser.add_argument("--teacher", default="alp-gmm")
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--eval-interval", type=int, default=0, help="0: evaluate at the end")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=None, help="run folder (default: runs/stump-...)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR")
    args = parser.parse_args()

    if args.resume:
        result = resume(args.resume, total_timesteps=args.steps)
    else:
        if args.algo == "ppo":
            # Continuous control with PPO: longer rollouts than the discrete-grid defaults.
            algorithm_kwargs: dict[str, object] = {"n_steps": 1024, "batch_size": 256}
        else:
            # Off-policy: learn after a short random warm-up (the paper used 10k of 20M).
            algorithm_kwargs = {"learning_starts": min(10_000, args.steps // 10)}
        config = TrainConfig(
            env_id="teachgym/StumpTracks-v0",
            teacher=args.teacher,
            algorithm=args.algo,
            algorithm_kwargs=algorithm_kwargs,
            n_envs=args.n_envs,
            total_timesteps=args.steps,
            seed=args.seed,
            device=args.device,
            eval_interval=args.eval_interval,
            checkpoint_interval=max(args.steps // 10, 1_000),
            run_dir=args.out or f"runs/stump-{args.teacher}-{args.algo}-s{args.seed}",
        )
        result = train(config)
    assert result.evaluation is not None
    print(f"run folder: {result.run_dir}")
    print(
        f"{result.num_timesteps:,} steps, {result.episodes:,} episodes: "
        f"{result.evaluation.mastered_pct:.1f}% of the test set mastered "
        f"(return > {result.evaluation.mastery_threshold:g}); plots in {result.run_dir / 'plots'}"
    )


if __name__ == "__main__":
    main()
