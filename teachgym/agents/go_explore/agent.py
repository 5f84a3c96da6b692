"""Go-Explore: remember, return, explore; then robustify the best trajectory into a policy.

Ecoffet et al. 2019, "Go-Explore: a New Approach for Hard-Exploration Problems"
(arXiv:1901.10995) and 2021, "First return, then explore" (Nature 590).

Phase 1 (``explore``) repeats: choose a cell from the archive (weight ``1 / sqrt(seen + 1)``, or
the 2019 count formula), return to it by restoring its snapshot, explore from there with random
actions that repeat the previous one with probability 0.95, and add every newly reached cell —
or replace a known one reached with a higher score, or the same score by a shorter trajectory.

Phase 2 (``robustify``) trains a PPO policy with the backward algorithm on the best trajectory
(see ``teachgym.agents.go_explore.robustify``). It reads plain data, not this agent:
``demonstrations()`` hands it the best trajectories with the env factory, seeds and device.

Example::

    from teachgym.agents.go_explore import GoExplore, MiniGridCell

    agent = GoExplore("MiniGrid-KeyCorridorS3R3-v0", cell_fn=MiniGridCell(), seed=0)
    agent.explore(100_000)            # phase 1
    agent.robustify(500_000)          # phase 2
    obs, _ = agent.make_env().reset(seed=agent.env_seed)
    action, _ = agent.predict(obs, deterministic=True)
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from teachgym.agents.go_explore.archive import Archive, Selection
from teachgym.agents.go_explore.cells import CellFn, DownscaledCell, make_cell_fn
from teachgym.agents.go_explore.demonstrations import Demonstrations
from teachgym.checks import (
    check_choice,
    check_int,
    check_optional_int,
    check_probability,
    check_real,
)
from teachgym.envs import env_factory, make_env
from teachgym.envs.snapshots import is_minigrid, with_snapshots
from teachgym.state_io import write_json_atomically

__all__ = ["ExploreStats", "GoExplore", "make_go_explore_env"]

ReturnMode = Literal["snapshot", "replay"]
EnvSource = gym.Env | str | Callable[[], gym.Env]

_ARCHIVE_FILE, _CONFIG_FILE, _POLICY_FILE = "archive.npz", "go_explore.json", "policy.pt"
_FORMAT_VERSION = 1


#: Go-Explore's ALE settings unless given: a fixed frame skip and no sticky actions, so that a
#: restored state has one future (phase 1 returns to cells in a deterministic env; Ecoffet et al.
#: 2019, "Go-Explore: a New Approach for Hard-Exploration Problems").
ALE_DEFAULTS: Mapping[str, Any] = {"frameskip": 4, "repeat_action_probability": 0.0}


def _env_options(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``teachgym.envs.make_env`` options for Go-Explore on ``env_id``."""
    kwargs = dict(env_kwargs or {})
    if env_id.startswith("ALE/"):
        return {"obs": "none", "env_kwargs": {**ALE_DEFAULTS, **kwargs}}
    if env_id.startswith("MiniGrid-"):
        return {"obs": "flat", "env_kwargs": kwargs}
    if env_id.startswith("teachgym/"):
        # "flat" on every teachgym grid; a walker keeps its observations (and is then refused
        # for its continuous actions).
        return {"obs": "auto", "env_kwargs": kwargs}
    return {"obs": "none", "env_kwargs": kwargs}


def make_go_explore_env(env_id: str, **env_kwargs: Any) -> gym.Env:
    """``teachgym.envs.make_env`` with the settings Go-Explore needs for known families.

    - ``ALE/*``: ``ALE_DEFAULTS`` (``frameskip=4, repeat_action_probability=0.0``, a
      deterministic env) unless ``env_kwargs`` sets them.
    - ``MiniGrid-*`` and teachgym's grids: flat observations (``GridFlatObs``) so that phase 2's
      PPO can read them.
    - Any other id: the env's own observations.

    Args:
        env_id: A registered id.
        **env_kwargs: Passed to ``gymnasium.make``.
    """
    return make_env(env_id, **_env_options(env_id, env_kwargs))


@dataclass
class ExploreStats:
    """Phase 1 counters and history.

    Attributes:
        num_timesteps: Env steps executed (``step`` calls, including replays when returning by
            replay).
        num_timesteps_from_reset: Steps Go-Explore would have spent without restoring: executed
            steps plus the length of every trajectory it returned along (2019's frame count).
        iterations: Explorations run.
        first_success_step: ``num_timesteps`` when a trajectory first scored above
            ``success_score`` (``None`` until then).
        history: Rows ``(num_timesteps, num_timesteps_from_reset, cells, best score)``, one each
            ``log_interval`` steps and one at each new best score.
    """

    num_timesteps: int = 0
    num_timesteps_from_reset: int = 0
    iterations: int = 0
    first_success_step: int | None = None
    history: list[tuple[int, int, int, float]] = field(default_factory=list)


class GoExplore:
    """Go-Explore with a cell archive, state restore and PPO robustification.

    Args:
        env: An env, a factory returning one, or an id (built by ``make_go_explore_env``). Phase 1
            runs on one instance; phase 2 builds ``n_envs`` more (from the factory or id, or by
            ``copy.deepcopy`` of an instance).
        cell_fn: A ``CellFn`` or its name (``"downscaled"``, ``"minigrid"``, ``"montezuma"``);
            default ``DownscaledCell()``.
        seed: Seeds exploration's action draws, phase 2's PPO and, unless ``env_seed`` is
            given, the env.
        env_seed: ``reset(seed=env_seed)`` defines "the" start state: Go-Explore's phase 1
            assumes a deterministic env, so every return and every replay starts from it.
        device: Torch device for phase 2 (``"auto"``: CUDA when present).
        return_mode: ``"snapshot"`` restores ``get_state()`` snapshots (MiniGrid, ALE);
            ``"replay"`` is the explicit opt-in for other deterministic envs: it returns by
            resetting and replaying the cell's actions, which costs those steps.
        explore_steps: Steps explored after each return (2019: 100).
        repeat_action_prob: Probability of repeating the previous action. ``None``: the 2019
            paper's 0.95, except on MiniGrid envs, where it is 0: their actions are egocentric
            (turn, forward …), so long repeats spin the agent or push it into a wall
            (KeyCorridorS3R3: 5/5 seeds solved within 100k steps at 0, fewer at 0.95; see
            BENCHMARKS.md).
        selection: ``"2021"`` (``1 / sqrt(seen + 1)``) or ``"2019"`` (count subscores).
        end_on_life_loss: Stop an exploration when ``info["lives"]`` drops (Atari), as the
            2019 paper does, and never archive the state after a lost life.
        success_score: A trajectory scoring above this is a success (``first_success_step``).
        log_interval: Steps between history rows.
    """

    def __init__(
        self,
        env: EnvSource,
        cell_fn: CellFn | str | None = None,
        *,
        seed: int = 0,
        env_seed: int | None = None,
        device: str = "auto",
        return_mode: ReturnMode = "snapshot",
        explore_steps: int = 100,
        repeat_action_prob: float | None = None,
        selection: Selection = "2021",
        end_on_life_loss: bool = True,
        success_score: float = 0.0,
        log_interval: int = 1000,
    ) -> None:
        check_choice("return_mode", return_mode, ("snapshot", "replay"))
        explore_steps = check_int("explore_steps", explore_steps, minimum=1)
        if repeat_action_prob is not None:
            repeat_action_prob = check_probability("repeat_action_prob", repeat_action_prob)
        log_interval = check_int("log_interval", log_interval, minimum=1)
        seed = check_int("seed", seed)
        env_seed = check_optional_int("env_seed", env_seed)
        success_score = check_real("success_score", success_score)
        self._env_source = env
        self.env_id = env if isinstance(env, str) else None
        base_env = self._build_env()
        if not isinstance(base_env.action_space, spaces.Discrete):
            raise TypeError(
                f"Go-Explore explores with discrete actions; got {base_env.action_space}"
            )
        if return_mode == "snapshot":
            self.env: gym.Env = with_snapshots(base_env)  # or a TypeError saying what is needed
        else:
            self.env = base_env
        self.cell_fn = self._resolve_cell_fn(cell_fn)
        self.seed = seed
        self.env_seed = seed if env_seed is None else env_seed
        self.device = device
        self.return_mode: ReturnMode = return_mode
        self.explore_steps = explore_steps
        if repeat_action_prob is None:
            repeat_action_prob = 0.0 if is_minigrid(base_env) else 0.95
        self.repeat_action_prob = float(repeat_action_prob)
        self.selection: Selection = selection
        self.end_on_life_loss = bool(end_on_life_loss)
        self.success_score = success_score
        self.log_interval = log_interval
        self.num_actions = int(base_env.action_space.n)
        self.rng = np.random.default_rng(self.seed)
        self.archive = Archive(selection)
        self.stats = ExploreStats()
        self.policy: Any = None  # the robustified PPO model (phase 2)
        self.robustify_stats: dict[str, Any] = {}
        self._next_log = 0

    def __repr__(self) -> str:
        source = self._env_source
        if isinstance(source, str):
            env = repr(source)
        elif isinstance(source, gym.Env):
            env = f"<{source.spec.id if source.spec else type(source.unwrapped).__name__}>"
        else:
            env = f"<factory {getattr(source, '__qualname__', type(source).__name__)}>"
        settings = ", ".join(f"{key}={value!r}" for key, value in self.cell_fn.config().items())
        policy = None if self.policy is None else type(self.policy).__name__
        return (
            f"GoExplore(env={env}, cell_fn={type(self.cell_fn).__name__}({settings}), "
            f"seed={self.seed}, cells={len(self.archive)}, steps={self.stats.num_timesteps}, "
            f"best_score={self.best_score:g}, policy={policy})"
        )

    # ----------------------------------------------------------------------------------------
    # Envs.

    def _build_env(self) -> gym.Env:
        source = self._env_source
        if isinstance(source, str):
            return make_go_explore_env(source)
        if isinstance(source, gym.Env):
            return source
        if callable(source):
            env = source()
            if not isinstance(env, gym.Env):
                raise TypeError(f"the env factory returned {type(env).__name__}, not a gym.Env")
            return env
        raise TypeError(f"env must be a gym.Env, an env id or a factory; got {source!r}")

    def env_factory(self) -> Callable[[], gym.Env]:
        """A function returning a fresh env like the one phase 1 explores (phase 2 builds its
        envs with it). Picklable for an id (``teachgym.envs.env_factory``); for a factory, the
        factory itself; for an instance, ``copy.deepcopy`` of it."""
        source = self._env_source
        if isinstance(source, str):
            return env_factory(source, **_env_options(source))
        if isinstance(source, gym.Env):
            return functools.partial(copy.deepcopy, source)
        return source

    def make_env(self) -> gym.Env:
        """A fresh env like the one phase 1 explores (for phase 2 and evaluation)."""
        if isinstance(self._env_source, gym.Env):
            return copy.deepcopy(self._env_source)
        return self._build_env()

    def _resolve_cell_fn(self, cell_fn: CellFn | str | None) -> CellFn:
        if cell_fn is None:
            return DownscaledCell()
        if isinstance(cell_fn, str):
            return make_cell_fn(cell_fn)
        if not isinstance(cell_fn, CellFn):
            raise TypeError(f"cell_fn must be a CellFn or a name; got {cell_fn!r}")
        return cell_fn

    # ----------------------------------------------------------------------------------------
    # Phase 1.

    def _reset(self) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=self.env_seed)
        self.cell_fn.bind(self.env)
        return obs, info

    def _snapshot(self, lives: int | None) -> Any:
        if self.return_mode == "replay":
            return None
        return (self.env.get_state(), lives)  # type: ignore[attr-defined]

    def _start(self) -> None:
        obs, info = self._reset()
        lives = info.get("lives")
        key = self.cell_fn(obs, self.env)
        self.archive.offer(
            key,
            0.0,
            0,
            np.zeros(0, dtype=np.int64),
            self._snapshot(lives),
            frame=self._frame_for(obs),
        )
        self.archive.seen[0] = 1
        self._log(force=True)

    def _return_to(self, slot: int) -> int | None:
        """Put the env in the cell's state; returns the lives there (Atari) or ``None``."""
        if self.return_mode == "snapshot":
            state, lives = self.archive.snapshots[slot]
            # No re-bind: a restore stays in the episode the last reset(seed=env_seed) began, and
            # a cell function's cached layout (MiniGridCell's box positions) must not follow the
            # restored grid, where opened boxes are gone.
            self.env.restore_state(state)  # type: ignore[attr-defined]
            self.stats.num_timesteps_from_reset += int(self.archive.length[slot])
            return lives
        _, info = self._reset()
        lives = info.get("lives")
        for action in self.archive.actions[slot]:
            _, _, _, _, info = self.env.step(int(action))
            lives = info.get("lives", lives)
        steps = int(self.archive.length[slot])
        self.stats.num_timesteps += steps
        self.stats.num_timesteps_from_reset += steps
        return lives

    def explore(
        self,
        total_timesteps: int,
        callback: Callable[[GoExplore], Any] | None = None,
        progress_bar: bool = False,
    ) -> GoExplore:
        """Phase 1 for ``total_timesteps`` more env steps.

        Args:
            total_timesteps: Env steps to execute (explorations stop exactly there).
            callback: Called after every exploration with this agent; returning ``False``
                stops early.
            progress_bar: Show a rich progress bar.
        """
        total_timesteps = check_int("total_timesteps", total_timesteps, minimum=0)
        if len(self.archive) == 0:
            self._start()
        target = self.stats.num_timesteps + total_timesteps
        from teachgym._progress import progress_task

        with progress_task("Go-Explore phase 1", total_timesteps, enabled=progress_bar) as bar:
            while self.stats.num_timesteps < target:
                before = self.stats.num_timesteps
                self._explore_once(target)
                bar.advance(self.stats.num_timesteps - before)
                if callback is not None and callback(self) is False:
                    break
        return self

    def _explore_once(self, target: int) -> None:
        archive, env, cell_fn, stats = self.archive, self.env, self.cell_fn, self.stats
        slot = archive.choose(self.rng)
        archive.chosen[slot] += 1
        start_actions = archive.actions[slot]
        score = float(archive.score[slot])
        length = int(archive.length[slot])
        lives = self._return_to(slot)
        budget = max(min(self.explore_steps, target - stats.num_timesteps), 0)
        # Draw the whole exploration's randomness at once, as Python lists: cheaper per step.
        repeats = (self.rng.random(self.explore_steps) < self.repeat_action_prob).tolist()
        random_actions = self.rng.integers(self.num_actions, size=self.explore_steps).tolist()
        previous = int(start_actions[-1]) if len(start_actions) else -1
        new_actions: list[int] = []
        visited = {slot}
        progressed = False
        best_score = self.best_score
        end_on_life_loss = self.end_on_life_loss
        index_of, scores, lengths = archive.index, archive.score, archive.length
        obs = None
        steps = 0
        for step in range(budget):
            action = previous if repeats[step] and previous >= 0 else random_actions[step]
            obs, reward, terminated, truncated, info = env.step(action)
            steps += 1
            new_actions.append(action)
            previous = action
            score += float(reward)
            length += 1
            now_lives = info.get("lives", lives)
            lost_life = lives is not None and now_lives is not None and now_lives < lives
            if end_on_life_loss and lost_life:
                break
            lives = now_lives
            if truncated and not terminated:
                break  # out of time: no future to explore from here
            key = cell_fn(obs, env)
            known = index_of.get(key)
            if known is not None:
                visited.add(known)
                known_score = scores[known]
                if score < known_score or (score == known_score and length >= lengths[known]):
                    if terminated:
                        break
                    continue  # no better than the archived way in: the common case
            # A terminal state is worth keeping only as the end of a better trajectory (the
            # goal); deaths and failures are not cells (2019, section 2.1).
            if not terminated or score > best_score:
                actions = np.concatenate((start_actions, np.asarray(new_actions, dtype=np.int64)))
                snapshot = None if terminated else self._snapshot(lives)
                frame = self._frame_for(obs)
                archive.offer(
                    key,
                    score,
                    length,
                    actions,
                    snapshot,
                    terminal=terminated,
                    parent=slot,
                    frame=frame,
                )
                scores, lengths = archive.score, archive.length  # offer may grow the arrays
                visited.add(index_of[key])
                progressed = True
                if score > best_score:
                    best_score = score
                    stats.num_timesteps += steps  # the milestone's step count is exact
                    stats.num_timesteps_from_reset += steps
                    steps = 0
                    self._on_new_best(score)
            if terminated:
                break
        stats.num_timesteps += steps
        stats.num_timesteps_from_reset += steps
        for visited_slot in visited:
            archive.seen[visited_slot] += 1
        archive.chosen_since_new[slot] = 0 if progressed else archive.chosen_since_new[slot] + 1
        stats.iterations += 1
        if obs is not None:
            cell_fn.observe(obs, env)
            if cell_fn.wants_refit():
                self._rekey_archive()
        self._log()

    def _frame_for(self, obs: Any) -> Any:
        """The grey frame a re-fitting cell function needs to re-key this cell later."""
        if isinstance(self.cell_fn, DownscaledCell) and self.cell_fn.refit_interval is not None:
            return self.cell_fn.frame(obs, self.env)
        return None

    def _rekey_archive(self) -> None:
        """After a new representation: group cells under their new keys, keeping the best."""
        assert isinstance(self.cell_fn, DownscaledCell)
        old = self.archive
        fresh = Archive(self.selection)
        order = old.top(len(old))  # best first, so each new key keeps its best trajectory
        new_slot_of: dict[int, int] = {}
        kept: dict[int, int] = {}  # new slot -> the old slot whose trajectory it holds
        for slot in order:
            frame = old.frames[slot]
            key = old.keys[slot] if frame is None else self.cell_fn.key_of_frame(frame)
            if fresh.offer(
                key,
                float(old.score[slot]),
                int(old.length[slot]),
                old.actions[slot],
                old.snapshots[slot],
                terminal=bool(old.terminal[slot]),
                frame=frame,
            ):
                new_slot = fresh.index[key]
                fresh.seen[new_slot] = old.seen[slot]
                fresh.chosen[new_slot] = old.chosen[slot]
                fresh.chosen_since_new[new_slot] = old.chosen_since_new[slot]
                kept[new_slot] = slot
            new_slot_of[slot] = fresh.index[key]
        # Keep parent links so that load() replays from parents, not from reset; it checks that
        # the parent's trajectory is still a prefix.
        for new_slot, slot in kept.items():
            fresh.parent[new_slot] = new_slot_of.get(int(old.parent[slot]), -1)
        self.archive = fresh

    def _on_new_best(self, score: float) -> None:
        if self.stats.first_success_step is None and score > self.success_score:
            self.stats.first_success_step = self.stats.num_timesteps
        self._log(force=True)

    def _log(self, force: bool = False) -> None:
        stats = self.stats
        if not force and stats.num_timesteps < self._next_log:
            return
        stats.history.append(
            (
                stats.num_timesteps,
                stats.num_timesteps_from_reset,
                len(self.archive),
                self.best_score,
            )
        )
        while self._next_log <= stats.num_timesteps:
            self._next_log += self.log_interval

    @property
    def best_score(self) -> float:
        """The highest score in the archive."""
        n = len(self.archive)
        return float(self.archive.score[:n].max()) if n else 0.0

    def best_trajectory(self) -> np.ndarray:
        """Actions from reset of the best cell's trajectory (phase 2's demonstration)."""
        return self.archive.actions[self.archive.best()].copy()

    def demonstrations(self, count: int = 1) -> Demonstrations:
        """Phase 2's input: the ``count`` best trajectories with their scores (best first), the
        env factory, ``env_seed``, ``success_score``, ``seed``, ``device`` and whether the env's
        states can be restored (``return_mode == "snapshot"``).

        Raises:
            ValueError: ``count`` is not a positive integer.
        """
        count = check_int("count", count, minimum=1)
        return Demonstrations(
            env_factory=self.env_factory(),
            env_seed=self.env_seed,
            trajectories=tuple(
                (self.archive.actions[slot], float(self.archive.score[slot]))
                for slot in self.archive.top(count)
            ),
            success_score=self.success_score,
            seed=self.seed,
            device=self.device,
            restorable=self.return_mode == "snapshot",
        )

    # ----------------------------------------------------------------------------------------
    # Phase 2 and the SB3 verbs.

    def robustify(self, total_timesteps: int, *, num_demos: int = 1, **kwargs: Any) -> GoExplore:
        """Phase 2: the backward algorithm on the ``num_demos`` best trajectories (each episode
        starts on one of them). The other keyword arguments are those of
        ``teachgym.agents.go_explore.robustify.robustify``.

        Raises:
            RuntimeError: the archive is empty, or (backward algorithm) holds no trajectory
                scoring above ``success_score``.
        """
        from teachgym.agents.go_explore.robustify import robustify

        num_demos = check_int("num_demos", num_demos, minimum=1)
        if len(self.archive) == 0:
            raise RuntimeError("the archive is empty: run explore() first")
        demonstrations = self.demonstrations(num_demos)
        self.policy, self.robustify_stats = robustify(demonstrations, total_timesteps, **kwargs)
        return self

    def learn(
        self,
        total_timesteps: int,
        callback: Any = None,
        explore_fraction: float = 0.5,
        **robustify_kwargs: Any,
    ) -> GoExplore:
        """Both phases: ``explore_fraction`` of the steps exploring, the rest robustifying.

        ``callback`` is passed to phase 2's PPO (an SB3 callback).

        Raises:
            RuntimeError: phase 1 found no trajectory scoring above ``success_score``.
        """
        check_real(
            "explore_fraction", explore_fraction, low=0.0, high=1.0, low_open=True, high_open=True
        )
        explore_steps = int(total_timesteps * explore_fraction)
        self.explore(explore_steps)
        if self.best_score <= self.success_score:
            raise RuntimeError(
                f"phase 1 found no trajectory scoring above {self.success_score} in "
                f"{explore_steps} steps (best {self.best_score}); explore longer"
            )
        return self.robustify(
            total_timesteps - explore_steps, callback=callback, **robustify_kwargs
        )

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[Any, Any]:
        """The robustified policy's action (SB3's ``predict``)."""
        if self.policy is None:
            raise RuntimeError("no policy yet: call robustify() or learn() first")
        return self.policy.predict(observation, state, episode_start, deterministic)

    # ----------------------------------------------------------------------------------------
    # Saving: plain data only.

    def config(self) -> dict[str, Any]:
        """Constructor settings (JSON-ready)."""
        return {
            "env_id": self.env_id,
            "cell_fn": {"name": self.cell_fn.name, "kwargs": self.cell_fn.config()},
            "seed": self.seed,
            "env_seed": self.env_seed,
            "device": self.device,
            "return_mode": self.return_mode,
            "explore_steps": self.explore_steps,
            "repeat_action_prob": self.repeat_action_prob,
            "selection": self.selection,
            "end_on_life_loss": self.end_on_life_loss,
            "success_score": self.success_score,
            "log_interval": self.log_interval,
        }

    def save(self, path: str | Path) -> Path:
        """Write the archive (actions, scores, counters), settings, stats, the exploration RNG
        and, after phase 2, the policy weights into the folder ``path``. No pickle: snapshots
        are rebuilt on ``load`` by replaying actions."""
        from teachgym.state_io import write_atomically

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, keys_json = self.archive.to_arrays()
        write_atomically(
            folder / _ARCHIVE_FILE,
            lambda f: np.savez_compressed(f, **arrays),  # type: ignore[arg-type]
        )
        document = {
            "format_version": _FORMAT_VERSION,
            "config": self.config(),
            "cell_fn_state": self.cell_fn.state_dict(),
            "keys": json.loads(keys_json),
            "stats": asdict(self.stats),
            "next_log": self._next_log,
            "rng": self.rng.bit_generator.state,
            "robustify_stats": self.robustify_stats,
            "has_policy": self.policy is not None,
        }
        if self.policy is not None:
            import torch

            write_atomically(
                folder / _POLICY_FILE, lambda f: torch.save(self.policy.policy.state_dict(), f)
            )
        write_json_atomically(folder / _CONFIG_FILE, document)
        return folder

    @classmethod
    def load(
        cls,
        path: str | Path,
        env: EnvSource | None = None,
        cell_fn: CellFn | None = None,
        **overrides: Any,
    ) -> GoExplore:
        """Rebuild an agent saved by ``save``, replaying every cell's actions from reset to
        rebuild its snapshot (and checking it lands in the same cell with the same score).

        Args:
            path: The folder ``save`` wrote.
            env: The env (needed unless the agent was built from an id).
            cell_fn: Needed if the agent used a custom ``CellFn``.
            **overrides: Constructor settings to change (e.g. ``device``).

        Raises:
            FileNotFoundError: ``path`` holds no saved agent.
            ValueError: the file is from another format version, or a replay does not reproduce
                its cell (the env is not the one that was explored, or is not deterministic).
        """
        folder = Path(path)
        config_path = folder / _CONFIG_FILE
        if not config_path.is_file() or not (folder / _ARCHIVE_FILE).is_file():
            raise FileNotFoundError(
                f"no saved Go-Explore agent in {folder} (expected {_CONFIG_FILE} and "
                f"{_ARCHIVE_FILE})"
            )
        document = json.loads(config_path.read_text())
        if document.get("format_version") != _FORMAT_VERSION:
            raise ValueError(
                f"{config_path} has format_version {document.get('format_version')!r}; "
                f"this teachgym reads {_FORMAT_VERSION}"
            )
        config = dict(document["config"])
        env_id = config.pop("env_id")
        cell_config = config.pop("cell_fn")
        if env is None:
            if env_id is None:
                raise ValueError(f"{folder} was explored on an env instance: pass env=")
            env = env_id
        if cell_fn is None:
            if cell_config["name"] == "custom":
                raise ValueError(f"{folder} used a custom cell function: pass cell_fn=")
            cell_fn = make_cell_fn(cell_config["name"], **cell_config["kwargs"])
        cell_fn.load_state_dict(document["cell_fn_state"])
        config.update(overrides)
        agent = cls(env, cell_fn, **config)
        with np.load(folder / _ARCHIVE_FILE, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        agent.archive = Archive.from_arrays(arrays, json.dumps(document["keys"]), agent.selection)
        agent._rebuild_snapshots()
        stats = document["stats"]
        stats["history"] = [tuple(row) for row in stats["history"]]
        agent.stats = ExploreStats(**stats)
        agent._next_log = int(document["next_log"])
        agent.rng.bit_generator.state = document["rng"]
        agent.robustify_stats = document.get("robustify_stats", {})
        if document.get("has_policy"):
            from teachgym.agents.go_explore.robustify import load_policy

            policy_path = folder / _POLICY_FILE
            agent.policy = load_policy(agent.demonstrations(), policy_path, agent.robustify_stats)
        return agent

    def _rebuild_snapshots(self) -> None:
        """Replay each cell's trajectory, from its parent's snapshot when the parent's
        trajectory is a prefix of it (most are), else from reset, and check that it reaches the
        archived cell with the archived score (terminal cells included, so the demonstrations
        phase 2 uses are checked too)."""
        archive = self.archive
        order = np.argsort(archive.length[: len(archive)], kind="stable")
        rebuilt: set[int] = set()  # cells whose snapshot is back: usable as parents
        for slot in (int(s) for s in order):
            actions = archive.actions[slot]
            parent = int(archive.parent[slot])
            start, lives, score = 0, None, 0.0
            if parent in rebuilt:
                prefix = archive.actions[parent]
                if len(prefix) <= len(actions) and np.array_equal(prefix, actions[: len(prefix)]):
                    state, lives = archive.snapshots[parent]
                    self.env.restore_state(state)  # type: ignore[attr-defined]
                    start, score = len(prefix), float(archive.score[parent])
            obs = None
            if start == 0:
                obs, info = self._reset()
                lives = info.get("lives")
            for action in actions[start:]:
                obs, reward, _, _, info = self.env.step(int(action))
                score += float(reward)
                lives = info.get("lives", lives)
            # After a restore with no step since, an ALE frame is stale: only a cell with no
            # actions of its own past its parent's could hit that, and it is its parent's cell.
            if obs is None:
                key, frame = archive.keys[parent], archive.frames[parent]
            else:
                key, frame = self.cell_fn(obs, self.env), self._frame_for(obs)
            if key != archive.keys[slot] or not np.isclose(score, archive.score[slot]):
                raise ValueError(
                    f"replaying cell {slot}'s {len(actions)} actions reached cell {key!r} with "
                    f"score {score}, but the archive says {archive.keys[slot]!r} with "
                    f"{archive.score[slot]}: the env is not the one explored, or not deterministic"
                )
            archive.frames[slot] = frame
            if not archive.terminal[slot] and self.return_mode == "snapshot":
                archive.snapshots[slot] = self._snapshot(lives)
                rebuilt.add(slot)
