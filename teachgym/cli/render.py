"""``teachgym render`` (alias ``enjoy``, as rl-baselines3-zoo calls it): watch an episode.

Given an env id it plays random or given actions; given a run folder it plays the run's trained
model (the final model, the newest checkpoint or the checkpoint of a step) on chosen params or on
tasks of the run's test set. It writes a GIF (``--out``) or shows a window (``--human``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from teachgym.cli._common import (
    UsageError,
    add_key_value_option,
    check_output_path,
    env_arguments,
    import_user_modules,
    name_value,
    non_negative_int,
    positive_int,
)

__all__ = ["add_parser", "run"]

#: ``--steps`` unless given: a random-action clip of an env, or a whole episode of a run (the
#: envs end their own episodes; this only bounds a policy that never does).
_ENV_STEPS = 500
_RUN_STEPS = 100_000
#: Options that only mean something with a run folder: option → (dest, default).
_RUN_ONLY: dict[str, tuple[str, Any]] = {
    "--task": ("tasks", []),
    "--checkpoint": ("checkpoint", "final"),
    "--kind": ("kind", None),
    "--stochastic": ("stochastic", False),
    "--device": ("device", "auto"),
}


def add_parser(commands: Any) -> None:
    """Add ``render`` (and its alias ``enjoy``) to the sub-parsers ``commands``."""
    from teachgym.training.config import EVAL_KINDS

    parser = commands.add_parser(
        "render",
        aliases=["enjoy"],
        help="watch an episode of any env or of a run's trained policy (GIF or window)",
        description=(
            "Play an episode (one per --task) and write it as a GIF (--out) or show it in a "
            "window (--human). "
            "ENV: random or given (--actions) actions. RUN_DIR: the run's trained model acts "
            "(greedy unless --stochastic) on --param values, on test tasks (--task), or on "
            "params the env draws."
        ),
    )
    parser.add_argument(
        "env",
        metavar="ENV|RUN_DIR",
        help="env id (e.g. teachgym/GridNavigation-v0), or a run folder of `teachgym train`",
    )
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        type=name_value,
        default=[],
        metavar="NAME=VALUE",
        help="an episode parameter (unset ones take the env's defaults); repeatable",
    )
    add_key_value_option(
        parser,
        "--env-kwarg",
        "env_kwargs",
        "ENV's constructor option, VALUE parsed as JSON when it can be (e.g. walker=short); "
        "repeatable",
        default=[],
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--out", type=Path, metavar="FILE.gif", help="the GIF to write")
    output.add_argument(
        "--human", action="store_true", help="show the episode in a window instead of a GIF"
    )
    parser.add_argument(
        "--actions",
        metavar="JSON",
        help="ENV: the actions as a JSON list (e.g. '[2,2,1]' or '[[0.1,0,0,0]]') or a path to "
        "a .json file holding one; default: random actions",
    )
    parser.add_argument(
        "--task",
        dest="tasks",
        action="append",
        type=non_negative_int,
        default=[],
        metavar="N",
        help="RUN_DIR: play task N of the run's test set (the seed its evaluation used); "
        "repeatable, episodes one after another",
    )
    parser.add_argument(
        "--checkpoint",
        default="final",
        metavar="final|latest|STEP",
        help="RUN_DIR's model: final (default; the newest checkpoint if the run has not "
        "finished), latest, or the checkpoint taken at STEP",
    )
    parser.add_argument(
        "--kind", choices=EVAL_KINDS, help="RUN_DIR: test set of --task (default: the run's)"
    )
    parser.add_argument(
        "--stochastic",
        action="store_true",
        help="RUN_DIR: sample the policy's actions (default: greedy, as evaluation)",
    )
    parser.add_argument(
        "--device", default="auto", help="RUN_DIR: auto, cpu or cuda (default: auto)"
    )
    parser.add_argument(
        "--steps",
        type=positive_int,
        help=f"at most this many steps per episode (default: {_ENV_STEPS} for ENV, the "
        "whole episode for RUN_DIR)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        help="seed of the reset and random actions (default: 0; with --task, the task's "
        "evaluation seed)",
    )
    parser.add_argument("--fps", type=positive_int, default=30, help="GIF frame rate (default: 30)")
    parser.add_argument(
        "--batched",
        action="store_true",
        help="ENV: play the batched torch version of the env (teachgym.envs.batched; grid ids) "
        "instead of the MiniGrid-based one; GIF only",
    )
    parser.set_defaults(handler=run, prog=parser.prog)


def run(args: argparse.Namespace) -> int:
    """Play the episode(s) and write the GIF or show them."""
    if args.out is not None:
        if args.out.suffix.lower() != ".gif" or args.out.is_dir():
            raise UsageError(f"--out must be a .gif file path; got {str(args.out)!r}")
        check_output_path(args.out, "--out")
    elif not args.human:
        raise UsageError("give --out FILE.gif to write a GIF, or --human to watch in a window")
    # A folder is a run (RunDir.open says so when it is not); anything else is an env id.
    episodes = _run_episodes(args) if Path(args.env).is_dir() else _env_episodes(args)
    frames: list[Any] = []
    try:
        for label, play in episodes:
            played, steps, episode_return = play()
            frames += played
            print(f"{label}{steps} steps, return {episode_return:.2f}")
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    if args.out is not None:
        from teachgym.envs.viewing import save_gif

        save_gif(frames, args.out, fps=args.fps)
        print(f"wrote {args.out}")
    return 0


# An episode to play: a label for its line of output, and a function that plays it and returns
# its frames (none in a window), steps and return.
_Episode = tuple[str, Any]


def _env_episodes(args: argparse.Namespace) -> list[_Episode]:
    """ENV: one episode with random or given actions."""
    given = [
        option for option, (dest, default) in _RUN_ONLY.items() if getattr(args, dest) != default
    ]
    if given:
        raise UsageError(f"{', '.join(given)} need a RUN_DIR; {args.env!r} is an env id")
    env_id, params, env_kwargs = env_arguments(args)
    actions = None if args.actions is None else _load_actions(args.actions)
    if args.batched:
        if args.human or env_kwargs:
            raise UsageError("--batched writes a GIF (--out) and takes no --env-kwarg")
        steps, seed = args.steps or _ENV_STEPS, args.seed or 0
        return [("", lambda: _play_batched(env_id, params, actions, steps, seed))]
    options = {
        "actions": actions,
        "max_steps": args.steps or _ENV_STEPS,
        "seed": args.seed or 0,
        "env_kwargs": env_kwargs,
    }
    return [("", lambda: _play(args.human, env_id, params, options))]


def _play_batched(
    env_id: str, params: Any, actions: list[Any] | None, max_steps: int, seed: int
) -> tuple[list[Any], int, float]:
    """One episode of sub-env 0 of the batched version of ``env_id``, as MiniGrid frames."""
    import gymnasium as gym
    import numpy as np
    import torch

    try:
        env: Any = gym.make_vec(  # a BatchedGridEnv (torch interface)
            env_id, num_envs=1, vectorization_mode="vector_entry_point", device="cpu", seed=seed
        )
    except gym.error.Error:
        raise UsageError(f"{env_id} has no batched version (--batched)") from None
    if params:
        env.set_next_params([0], [env.param_space.to_vector(params)])
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    frames, total, steps = [env.render(0)], 0.0, 0
    while steps < max_steps and (actions is None or steps < len(actions)):
        action = int(rng.integers(env.num_actions)) if actions is None else int(actions[steps])
        _, reward, terminated, truncated, _ = env.step(torch.tensor([action]))
        steps += 1
        total += float(reward[0])
        if bool(terminated[0] or truncated[0]):
            break  # the env already reset: its new episode is not part of this one
        frames.append(env.render(0))
    env.close()
    return frames, steps, total


def _run_episodes(args: argparse.Namespace) -> list[_Episode]:
    """RUN_DIR: the run's model on ``--param`` values, ``--task`` tasks or drawn params."""
    from teachgym.training.config import TrainConfig
    from teachgym.training.evaluation import run_obs_wrapper
    from teachgym.training.runs import NotARunError, RunDir

    for option, value in (("--actions", args.actions), ("--env-kwarg", args.env_kwargs)):
        if value:
            raise UsageError(f"RUN_DIR has its own policy and env; drop {option}")
    if args.params and args.tasks:
        raise UsageError("give --param values or --task numbers, not both")
    try:
        run = RunDir.open(args.env)
        config = TrainConfig.from_dict(run.read_config()["config"])
    except (NotARunError, ValueError, KeyError) as error:
        raise UsageError(str(error)) from None
    import_user_modules(list(config.imports))  # the run's own envs and algorithms
    model = _load_model(run, config, args.checkpoint, args.device)
    deterministic = not args.stochastic

    def policy(observation: Any) -> Any:
        return model.predict(observation, deterministic=deterministic)[0]

    options = {
        "policy": policy,
        "obs": run_obs_wrapper(config.to_dict()),
        "max_steps": args.steps or _RUN_STEPS,
        "env_kwargs": config.env_kwargs,
        "imports": config.imports,
    }
    if not args.tasks:
        params = _param_values(args.params) or None
        return [("", lambda: _play(args.human, config.env_id, params, options, args.seed or 0))]
    from teachgym.training.evaluation import episode_seed, load_tasks

    kind = args.kind or config.eval_kind
    try:
        tasks = load_tasks(config.env_id, kind, config.env_kwargs)
    except ValueError as error:
        raise UsageError(str(error)) from None
    episodes: list[_Episode] = []
    for task in args.tasks:
        if task >= len(tasks):
            raise UsageError(
                f"--task {task}: the {kind} test set of {config.env_id} has {len(tasks)} "
                f"tasks, numbered 0 to {len(tasks) - 1}"
            )
        seed = episode_seed(task, 0) if args.seed is None else args.seed
        shown = ", ".join(f"{value:g}" for value in tasks[task])
        episodes.append(
            (
                f"task {task} ({shown}): ",
                lambda params=tasks[task], seed=seed: _play(
                    args.human, config.env_id, params, options, seed
                ),
            )
        )
    return episodes


def _play(
    human: bool, env_id: str, params: Any, options: dict[str, Any], seed: int | None = None
) -> tuple[list[Any], int, float]:
    from teachgym.envs.viewing import record_episode, show_episode

    seeded = options if seed is None else {**options, "seed": seed}
    if human:
        steps, episode_return = show_episode(env_id, params, **seeded)
        return [], steps, episode_return
    frames, episode_return = record_episode(env_id, params, **seeded)
    return frames, len(frames) - 1, episode_return


def _load_model(run: Any, config: Any, checkpoint: str, device: str) -> Any:
    """The run's model at ``checkpoint``: ``final``, ``latest`` or a step."""
    from teachgym.training.evaluation import load_run_model

    checkpoints = run.checkpoints()
    if checkpoint == "final" and run.final_model_file.is_file():
        path = run.final_model_file
    elif checkpoint in ("final", "latest"):
        if not checkpoints:
            raise UsageError(
                f"run {run.path} has no saved model yet (no final model, no checkpoint)"
            )
        path = checkpoints[-1].model_file
    else:
        try:
            step = int(checkpoint)
        except ValueError:
            raise UsageError(
                f"--checkpoint must be final, latest or a step; got {checkpoint!r}"
            ) from None
        found = [saved for saved in checkpoints if saved.step == step]
        if not found:
            steps = ", ".join(str(saved.step) for saved in checkpoints) or "none"
            raise UsageError(f"run {run.path} has no checkpoint at step {step}; steps: {steps}")
        path = found[0].model_file
    try:
        return load_run_model(path, config.to_dict(), device=device)
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None


def _param_values(pairs: list[tuple[str, str]]) -> dict[str, float]:
    values: dict[str, float] = {}
    for name, raw in pairs:
        try:
            values[name] = float(raw)
        except ValueError:
            raise UsageError(f"--param {name}={raw}: expected a number") from None
    return values


def _load_actions(text: str) -> list[Any]:
    path = Path(text)
    source = path.read_text() if path.suffix == ".json" and path.is_file() else text
    try:
        actions = json.loads(source)
    except json.JSONDecodeError as error:
        raise UsageError(f"--actions: not a JSON list or .json file ({error}): {text!r}") from None
    if not isinstance(actions, list):
        raise UsageError(f"--actions: expected a JSON list of actions; got {actions!r}")
    return actions
