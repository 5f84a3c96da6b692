"""Shared by the training tests: the smallest runs that still exercise every part."""

ENV = "teachgym/GridNavigation-v0"
# Small everything: 20-step episodes, PPO rollouts of 32 × 2 envs, one epoch, a 16-unit net,
# ALP-GMM fitting every 20 episodes with at most 3 components.
TINY_ARGS = [
    "--env-kwarg", "max_episode_steps=20",
    "--n-envs", "2",
    "--algo-kwarg", "n_steps=32",
    "--algo-kwarg", "batch_size=32",
    "--algo-kwarg", "n_epochs=1",
    "--algo-kwarg", 'policy_kwargs={"net_arch": [16]}',
    "--teacher-kwarg", "fit_rate=20",
    "--teacher-kwarg", "max_components=3",
    "--torch-threads", "1",
    "--no-progress",
]  # fmt: skip
