"""``TrainConfig``: the typed description of a training run (issue #4, item 2; STYLE.md §5).

A light module (NumPy only) so the command line can read the defaults and docstrings without
importing torch; ``teachgym.training`` re-exports everything here and does the training.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EVAL_KINDS", "VEC_ENV_CHOICES", "TrainConfig", "derive_seeds", "field_help"]

VEC_ENV_CHOICES: tuple[str, ...] = ("dummy", "subproc")
EVAL_KINDS: tuple[str, ...] = ("uniform", "grid")


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as ``config.json`` in the run folder.

    ``validate()`` checks names and values without building anything; ``Trainer.new`` then
    checks what needs the env (env id and kwargs, teacher hyperparameters, the algorithm's
    arguments and action space) — all before the first training step.
    """

    env_id: str
    """Gymnasium id of a teachgym parameterized env, e.g. ``teachgym/GridNavigation-v0``."""

    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed to ``gymnasium.make`` (constructor options, ``max_episode_steps``)."""

    obs_wrapper: str = "auto"
    """``auto`` (``flat`` for MiniGrid-style envs, else ``none``), ``none``, ``flat``,
    ``image`` or ``rgb`` (see ``teachgym.envs.wrappers``)."""

    teacher: str = "alp-gmm"
    """Registered teacher name (``teachgym.teachers.available()``, including your own)."""

    teacher_kwargs: dict[str, Any] = field(default_factory=dict)
    """The teacher's hyperparameters (``fit_rate``, ``random_ratio`` …)."""

    algorithm: str = "ppo"
    """SB3 algorithm name (``teachgym.agents.sb3.available_algorithms()``)."""

    algorithm_kwargs: dict[str, Any] = field(default_factory=dict)
    """The algorithm's own arguments (``n_steps``, ``batch_size``, ``learning_rate``,
    ``policy_kwargs`` …)."""

    policy: str | None = None
    """SB3 policy name; ``None`` picks one from the observation space."""

    n_envs: int = 4
    """Sub-envs stepped per vector step."""

    vec_env: str = "dummy"
    """``dummy`` (all sub-envs in this process) or ``subproc`` (one process each)."""

    total_timesteps: int = 100_000
    """Env steps to train for, summed over sub-envs (SB3's ``num_timesteps``)."""

    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``."""

    seed: int = 0
    """Root seed of the teacher, the sub-envs and the model (see ``derive_seeds``)."""

    eval_interval: int = 0
    """Steps between two test-set evaluations during training (and one at step 0); 0: only
    the final evaluation."""

    eval_episodes: int = 1
    """Episodes per test task (1 in the paper); 0 turns evaluation off."""

    eval_kind: str = "uniform"
    """Test set evaluated on schedule and at the end: ``uniform`` (the paper's 50 fixed draws)
    or ``grid`` (10 × 10, 2-D spaces only)."""

    mastery_map: bool = True
    """At the end, also evaluate the 10 × 10 grid of a 2-D space and draw the mastery map."""

    checkpoint_interval: int = 10_000
    """Steps between two checkpoints; 0: only the final one."""

    keep_checkpoints: int = 2
    """Newest complete checkpoints kept on disk (older ones are deleted)."""

    save_replay_buffer: bool = True
    """Off-policy algorithms (SAC, TD3, DQN …): put the replay buffer in each checkpoint, so a
    resumed run learns from the same memory. It can be large (SB3 pickles it)."""

    run_dir: str | None = None
    """The run folder; ``None``: ``runs/<env>-<teacher>-<algorithm>-s<seed>``."""

    imports: list[str] = field(default_factory=list)
    """Modules imported first (and in each sub-process) that register your teachers, envs or
    algorithms."""

    torch_threads: int | None = None
    """``torch.set_num_threads`` for this process; ``None`` keeps torch's default."""

    verbose: int = 0
    """SB3 verbosity (1 also prints SB3's log table to stdout)."""

    # ------------------------------------------------------------------ checks and JSON
    def validate(self) -> None:
        """Check names and values (imports the ``imports`` modules first, so their teachers and
        algorithms count).

        Raises:
            ValueError: the first bad field, with the valid choices.
        """
        from teachgym import teachers
        from teachgym.agents import sb3

        for module in self.imports:
            try:
                importlib.import_module(module)
            except ImportError as error:
                raise ValueError(f"imports: cannot import {module!r}: {error}") from None
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ValueError(f"env_id must be a non-empty string; got {self.env_id!r}")
        for name in ("env_kwargs", "teacher_kwargs", "algorithm_kwargs"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a dict; got {getattr(self, name)!r}")
        try:
            json.dumps(self.to_dict(), allow_nan=False)
        except (TypeError, ValueError) as error:
            # The config is saved as config.json and rebuilt from it on resume.
            raise ValueError(
                f"the config must be plain JSON data ({error}); name classes instead, e.g. "
                'policy_kwargs={"activation_fn": "ReLU"}'
            ) from None
        if self.obs_wrapper not in sb3.OBS_WRAPPER_CHOICES:
            raise ValueError(
                f"unknown obs_wrapper {self.obs_wrapper!r}; expected one of: "
                f"{', '.join(sb3.OBS_WRAPPER_CHOICES)}"
            )
        teachers.get_class(self.teacher)  # lists the registered teachers when unknown
        sb3.algorithm_class(self.algorithm)  # lists the available algorithms when unknown
        if self.vec_env not in VEC_ENV_CHOICES:
            raise ValueError(
                f"unknown vec_env {self.vec_env!r}; expected one of: {', '.join(VEC_ENV_CHOICES)}"
            )
        if self.eval_kind not in EVAL_KINDS:
            raise ValueError(
                f"unknown eval_kind {self.eval_kind!r}; expected one of: {', '.join(EVAL_KINDS)}"
            )
        sb3.resolve_device(self.device)
        for name, minimum in (
            ("n_envs", 1),
            ("total_timesteps", 1),
            ("seed", 0),
            ("eval_interval", 0),
            ("eval_episodes", 0),
            ("checkpoint_interval", 0),
            ("keep_checkpoints", 1),
            ("verbose", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer ≥ {minimum}; got {value!r}")
        if self.torch_threads is not None and (
            isinstance(self.torch_threads, bool)
            or not isinstance(self.torch_threads, int)
            or self.torch_threads < 1
        ):
            raise ValueError(f"torch_threads must be None or ≥ 1; got {self.torch_threads!r}")

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict()`` output.

        Raises:
            ValueError: unknown or missing fields (listing the valid ones).
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {unknown}; fields: {', '.join(names)}")
        try:
            return cls(**data)
        except TypeError as error:
            raise ValueError(f"bad TrainConfig: {error}") from None

    def default_run_dir(self) -> str:
        """``runs/<env name>-<teacher>-<algorithm>-s<seed>``."""
        env_name = self.env_id.split("/")[-1].split(":")[-1]
        return str(Path("runs") / f"{env_name}-{self.teacher}-{self.algorithm}-s{self.seed}")


def derive_seeds(seed: int) -> dict[str, int]:
    """Independent seeds for the teacher, the sub-envs and the model, from one root seed."""
    teacher_seed, env_seed, model_seed = np.random.SeedSequence(seed).generate_state(3)
    # SB3 adds the sub-env index to the env seed: keep the sum inside uint32.
    return {
        "teacher": int(teacher_seed),
        "env": int(env_seed) % (2**31),
        "model": int(model_seed) % (2**31),
    }


def field_help(name: str) -> str:
    """The docstring of ``TrainConfig`` field ``name`` (from the source; for ``--help``)."""
    return _FIELD_DOCS.get(name, "")


def _field_docs() -> dict[str, str]:
    """Field docstrings (string literals right after each field) read from this file's source,
    so ``--help`` and the API documentation say the same thing."""
    import ast
    import inspect

    try:
        tree = ast.parse(inspect.getsource(TrainConfig))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


_FIELD_DOCS = _field_docs()
