"""PPO steps/s with and without ``CurriculumVecEnv`` (the wrapper should cost at most 5%).

Trains stable-baselines3 PPO (``MlpPolicy``) on the same vector env three ways: ``plain`` (no
curriculum; each env draws its params uniformly itself, i.e. the distribution the ``random``
teacher samples), through ``CurriculumVecEnv`` with the ``random`` teacher, and with
``alp-gmm``. Runs alternate (plain, random, alp-gmm, then rotated) so drift of the machine hits
every configuration alike; the median over repeats is reported. Besides steps/s, thin timing
layers above and below the curriculum wrapper measure the seconds spent inside it (pairing,
teacher ``sample``/``update`` and ``env_method`` calls), as a share of the training time: that
share is the wrapper's cost without the noise of two separate runs.

    python benchmarks/bench_wrapper_overhead.py                       # GridNavigation, 8 envs
    python benchmarks/bench_wrapper_overhead.py --env stump --timesteps 8192 --repeats 3

The ``alp-gmm`` teacher changes which params are drawn after its 250-episode bootstrap, and so
the episodes' lengths; its steps/s difference includes that, the in-wrapper share does not.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

import teachgym  # noqa: F401  (registers the teachgym/* ids)
from teachgym import teachers
from teachgym.envs.wrappers import GridFlatObs
from teachgym.teachers.curriculum_sb3 import CurriculumVecEnv

ENVS = {
    "grid": ("teachgym/GridNavigation-v0", GridFlatObs),
    "stump": ("teachgym/StumpTracks-v0", None),
}


class Clock(VecEnvWrapper):
    """Adds up the wall-clock seconds spent in the ``reset`` and ``step_wait`` below it."""

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.seconds = 0.0

    def reset(self) -> VecEnvObs:
        start = time.perf_counter()
        obs = self.venv.reset()
        self.seconds += time.perf_counter() - start
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        start = time.perf_counter()
        result = self.venv.step_wait()
        self.seconds += time.perf_counter() - start
        return result


def make_venv(env: str, n_envs: int, seed: int) -> DummyVecEnv:
    env_id, wrapper = ENVS[env]

    def factory() -> gym.Env:
        made = gym.make(env_id)
        return wrapper(made) if wrapper is not None else made

    venv = DummyVecEnv([factory] * n_envs)
    venv.seed(seed)
    return venv


def run(config: str, env: str, n_envs: int, timesteps: int, n_steps: int, seed: int) -> dict:
    """One timed ``learn``; ``config`` is ``plain`` or a teacher name."""
    inner = Clock(make_venv(env, n_envs, seed))
    teacher = None
    if config == "plain":
        below: VecEnv = inner
    else:
        space = inner.get_attr("param_space")[0]
        teacher = teachers.make(config, space, seed=seed)
        below = CurriculumVecEnv(inner, teacher)
    outer = Clock(below)
    model = PPO("MlpPolicy", outer, n_steps=n_steps, seed=seed, device="cpu", verbose=0)
    start = time.perf_counter()
    model.learn(timesteps)
    elapsed = time.perf_counter() - start
    outer.close()
    return {
        "steps_per_s": timesteps / elapsed,
        "seconds": elapsed,
        "wrapper_share": (outer.seconds - inner.seconds) / elapsed,
        "env_share": inner.seconds / elapsed,
        "episodes": None if teacher is None else teacher.n_updates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=sorted(ENVS), default="grid")
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=32768, help="timesteps per timed run")
    parser.add_argument("--n-steps", type=int, default=256, help="PPO rollout steps per env")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per config")
    parser.add_argument("--teachers", nargs="+", default=["random", "alp-gmm"])
    parser.add_argument("--out", type=Path, default=None, help="JSON output")
    args = parser.parse_args()
    # 2-core machines: one torch thread (more only contend with the envs) and one BLAS thread
    # for ALP-GMM's fits (multithreaded GMM fits were 40x slower on 2 cores).
    torch.set_num_threads(1)

    configs = ["plain", *args.teachers]
    runs: dict[str, list[dict[str, Any]]] = {config: [] for config in configs}
    for repeat in range(args.repeats):
        order = configs[repeat % len(configs) :] + configs[: repeat % len(configs)]
        for config in order:
            row = run(config, args.env, args.n_envs, args.timesteps, args.n_steps, seed=repeat)
            runs[config].append(row)
            print(
                f"repeat {repeat} {config:<8} {row['steps_per_s']:7.0f} steps/s  "
                f"in wrapper {100 * row['wrapper_share']:5.2f}%  episodes {row['episodes']}",
                flush=True,
            )
    plain = statistics.median(r["steps_per_s"] for r in runs["plain"])
    summary = {}
    print(f"\n{'config':<8} {'steps/s':>8} {'vs plain':>9} {'in wrapper':>11}")
    for config in configs:
        median = statistics.median(r["steps_per_s"] for r in runs[config])
        share = statistics.median(r["wrapper_share"] for r in runs[config])
        summary[config] = {
            "median_steps_per_s": median,
            "slowdown": 1.0 - median / plain,
            "median_wrapper_share": share,
            "runs": runs[config],
        }
        print(f"{config:<8} {median:8.0f} {100 * (median / plain - 1):+8.1f}% {100 * share:10.2f}%")
    if args.out is not None:
        command = (
            f"python benchmarks/bench_wrapper_overhead.py --env {args.env} --n-envs {args.n_envs} "
            f"--timesteps {args.timesteps} --n-steps {args.n_steps} --repeats {args.repeats} "
            f"--teachers {' '.join(args.teachers)}"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(
                {
                    "command": command,
                    "machine": f"{platform.processor() or platform.machine()}, "
                    f"{platform.python_version()}, torch {torch.__version__}, 1 thread",
                    "date": time.strftime("%Y-%m-%d"),
                    "results": summary,
                },
                indent=2,
                default=float,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
