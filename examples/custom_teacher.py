"""Plug your own teacher into teachgym: subclass, register, use it by name.

    python examples/custom_teacher.py            # on the toy student (seconds)
    python examples/custom_teacher.py --train    # also PPO on GridNavigation (a few minutes)

The teacher below samples near the parameters where the score last changed the most: a crude
learning-progress heuristic in ~20 lines. Registered as "last-progress", it runs in the toy
benchmark and in training exactly like the built-in teachers. From the command line, import this
file (or your module, by name when it sits in the current directory):

    teachgym train teachgym/GridNavigation-v0 --import examples/custom_teacher.py \
        --teacher last-progress
    teachgym bench toy --import examples/custom_teacher.py --teachers random last-progress
"""

import argparse
import time

import numpy as np

from teachgym import ParamSpace, teachers
from teachgym.bench.toy import ToyBenchConfig, bench_toy
from teachgym.checks import check_probability, check_real


class LastProgressTeacher(teachers.Teacher):
    """Sample around the params whose score differed most from the previous score."""

    def __init__(self, param_space, *, seed=None, spread: float = 0.1, random_ratio: float = 0.3):
        super().__init__(param_space, seed=seed)
        # Each hyperparameter lives in the attribute named like the argument: that is where
        # `hyperparameters` (saved in the state, shown by repr) reads it.
        self.spread = check_real("spread", spread, low=0.0)
        self.random_ratio = check_probability("random_ratio", random_ratio)
        self.focus: np.ndarray | None = None
        self.best_change, self.last_score = 0.0, 0.0

    def _sample(self) -> np.ndarray:
        if self.focus is None or self.rng.random() < self.random_ratio:
            return self.param_space.sample(self.rng)
        span = self.param_space.high - self.param_space.low
        noise = self.spread * span * self.rng.standard_normal(len(span))
        return self.param_space.clip(self.focus + noise)  # samples stay inside the bounds

    def _update(self, params: np.ndarray, score: float) -> None:
        change = abs(score - self.last_score)
        if change >= 0.9 * self.best_change:
            self.focus, self.best_change = params, change
        self.best_change *= 0.99  # forget old progress
        self.last_score = score

    def _state_dict(self) -> dict:
        focus = None if self.focus is None else self.focus.copy()
        return {"focus": focus, "best_change": self.best_change, "last_score": self.last_score}

    def _load_state_dict(self, state: dict) -> None:
        self.focus = None if state["focus"] is None else np.asarray(state["focus"], dtype=float)
        self.best_change, self.last_score = float(state["best_change"]), float(state["last_score"])


teachers.register("last-progress", LastProgressTeacher)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Check the LastProgressTeacher above against the Teacher contract, compare "
        "it with random and alp-gmm on the toy student (Portelas et al. 2019, §4), and "
        "optionally train PPO with it on GridNavigation.",
    )
    parser.add_argument("--seeds", type=int, default=3, help="toy runs per teacher (default: 3)")
    parser.add_argument(
        "--episodes", type=int, default=10_000, help="episodes per toy run (default: 10000)"
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="also train PPO on teachgym/GridNavigation-v0 for 20,000 steps (a few minutes)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    space = ParamSpace.unit(2)
    teachers.check_teacher(LastProgressTeacher(space, seed=0))  # the contract holds
    config = ToyBenchConfig(
        teachers=["random", "last-progress", "alp-gmm"], seeds=args.seeds, episodes=args.episodes
    )
    results = bench_toy(config)
    for name, result in results["results"].items():
        final = [run[-1] for run in result["mastered"]]
        print(f"{name:>14}: {np.mean(final):5.1f} ± {np.std(final):.1f} % of cells mastered")

    if args.train:
        from teachgym.training import TrainConfig, train

        result = train(
            TrainConfig(
                env_id="teachgym/GridNavigation-v0",
                teacher="last-progress",
                teacher_kwargs={"spread": 0.05},
                total_timesteps=20_000,
                n_envs=4,
                eval_interval=10_000,
                run_dir=time.strftime("runs/custom-teacher-%Y%m%d-%H%M%S"),
            )
        )
        print(f"test set mastered: {result.evaluation.mastered_pct:.1f}%")
