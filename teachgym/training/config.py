"""``TrainConfig``: the typed description of a training run (``docs/design.md``, "Runs and
evaluation").

A light module (NumPy only) so the command line can read the fields, their docstrings and
defaults without importing torch: ``teachgym train``'s options are generated from them. A
field's ``metadata`` holds what the checks and the command line need beyond its type, default
and docstring:

=============  ============================================================================
``minimum``    smallest value of an integer field (``validate`` checks it)
``choices``    the values a string field may take (``validate`` checks them, ``--help`` lists
               them)
``flag``       the option, where it is not ``--<field-name>`` (``--no-<field-name>`` for a
               ``True`` switch)
``metavar``    how ``--help`` names the option's value
``flag_help``  help of the ``--no-…`` option that turns a ``True`` switch off
=============  ============================================================================
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from teachgym._imports import resolve_imports
from teachgym.checks import check_int, check_optional_int

__all__ = [
    "BACKENDS",
    "EVAL_KINDS",
    "VEC_ENV_CHOICES",
    "TrainConfig",
    "derive_seeds",
    "field_help",
    "resolve_imports",
]

VEC_ENV_CHOICES: tuple[str, ...] = ("dummy", "subproc")
BACKENDS: tuple[str, ...] = ("sb3", "batched")
#: ``n_envs`` when the config leaves it ``None``, per backend.
DEFAULT_N_ENVS = {"sb3": 4, "batched": 256}
EVAL_KINDS: tuple[str, ...] = ("uniform", "grid")


def _meta(
    *,
    minimum: int | None = None,
    choices: Sequence[str] | None = None,
    flag: str | None = None,
    metavar: str | None = None,
    flag_help: str | None = None,
) -> dict[str, Any]:
    """A field's ``metadata`` (see the module docstring), without the unset keys."""
    metadata = {
        "minimum": minimum,
        "choices": None if choices is None else tuple(choices),
        "flag": flag,
        "metavar": metavar,
        "flag_help": flag_help,
    }
    return {key: value for key, value in metadata.items() if value is not None}


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as ``config.json`` in the run folder.

    ``validate()`` checks names and values without building anything; ``Trainer.new`` then
    checks what needs the env (env id and kwargs, teacher hyperparameters, the algorithm's
    arguments and action space) — all before the first training step.
    """

    env_id: str = field(metadata=_meta(metavar="ENV"))
    """Gymnasium id of a teachgym parameterized env, e.g. ``teachgym/GridNavigation-v0``."""

    env_kwargs: dict[str, Any] = field(default_factory=dict, metadata=_meta(flag="--env-kwarg"))
    """Passed to ``gymnasium.make`` (constructor options, ``max_episode_steps``)."""

    obs_wrapper: str = field(default="auto", metadata=_meta(flag="--obs", metavar="WRAPPER"))
    """``auto`` (``flat`` for MiniGrid-style envs, else ``none``), ``none``, ``flat``,
    ``image`` or ``rgb`` (see ``teachgym.envs.wrappers``)."""

    teacher: str = field(default="alp-gmm", metadata=_meta(metavar="NAME"))
    """Registered teacher name (``teachgym.teachers.available()``, including your own)."""

    teacher_kwargs: dict[str, Any] = field(
        default_factory=dict, metadata=_meta(flag="--teacher-kwarg")
    )
    """The teacher's hyperparameters (``fit_rate``, ``random_ratio`` …)."""

    backend: str = field(default="sb3", metadata=_meta(choices=BACKENDS))
    """``sb3``: a stable-baselines3 algorithm on Gymnasium envs; ``batched``: teachgym's
    on-device PPO (``teachgym.agents.ppo``) on the env's batched version (ids with one:
    ``teachgym list``), the teacher in the loop (``teachgym.training.batched``)."""

    algorithm: str = field(default="ppo", metadata=_meta(flag="--algo", metavar="NAME"))
    """SB3 algorithm name (``teachgym.agents.sb3.available_algorithms()``); the ``batched``
    backend has ``ppo`` only."""

    algorithm_kwargs: dict[str, Any] = field(
        default_factory=dict, metadata=_meta(flag="--algo-kwarg")
    )
    """The algorithm's own arguments (SB3: ``n_steps``, ``batch_size``, ``learning_rate``,
    ``policy_kwargs`` …; batched: the fields of ``teachgym.agents.ppo.PPOConfig``)."""

    policy: str | None = field(default=None, metadata=_meta(metavar="NAME"))
    """SB3 policy name; ``None`` picks one from the observation space."""

    n_envs: int | None = field(default=None, metadata=_meta(minimum=1, metavar="N"))
    """Sub-envs stepped per vector step; ``None``: 4 (``sb3``) or 256 (``batched``; more on a
    GPU)."""

    vec_env: str = field(default="dummy", metadata=_meta(choices=VEC_ENV_CHOICES))
    """``dummy`` (all sub-envs in this process) or ``subproc`` (one process each)."""

    total_timesteps: int = field(
        default=100_000, metadata=_meta(minimum=1, flag="--steps", metavar="N")
    )
    """Env steps to train for, summed over sub-envs (SB3's ``num_timesteps``)."""

    device: str = field(default="auto", metadata=_meta(metavar="DEVICE"))
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``."""

    seed: int = field(default=0, metadata=_meta(minimum=0, metavar="SEED"))
    """Root seed of the teacher, the sub-envs and the model (see ``derive_seeds``)."""

    eval_interval: int = field(default=0, metadata=_meta(minimum=0, metavar="STEPS"))
    """Steps between two test-set evaluations during training (and one at step 0); 0: only
    the final evaluation."""

    eval_episodes: int = field(default=1, metadata=_meta(minimum=0, metavar="N"))
    """Episodes per test task (1 in the paper); 0 turns evaluation off."""

    eval_kind: str = field(default="uniform", metadata=_meta(choices=EVAL_KINDS))
    """Test set evaluated on schedule and at the end: ``uniform`` (the paper's 50 fixed draws)
    or ``grid`` (10 × 10, 2-D spaces only)."""

    eval_n_envs: int | None = field(default=None, metadata=_meta(minimum=1, metavar="N"))
    """Sub-envs playing test episodes at once; ``None``: one per CPU core. The returns are the
    same whatever the number (each episode is reset alone with its own seed and params)."""

    eval_vec_env: str = field(default="subproc", metadata=_meta(choices=VEC_ENV_CHOICES))
    """Sub-envs of the evaluation: ``subproc`` (a process each) or ``dummy`` (in this process;
    the faster choice for cheap envs on a machine with few free cores)."""

    mastery_map: bool = field(
        default=True,
        metadata=_meta(
            flag_help="skip the final 10 × 10 grid evaluation and mastery map of 2-D spaces"
        ),
    )
    """At the end, also evaluate the 10 × 10 grid of a 2-D space and draw the mastery map."""

    checkpoint_interval: int = field(default=10_000, metadata=_meta(minimum=0, metavar="STEPS"))
    """Steps between two checkpoints; 0: only the final one."""

    keep_checkpoints: int = field(default=2, metadata=_meta(minimum=1, metavar="N"))
    """Newest complete checkpoints kept on disk (older ones are deleted)."""

    save_replay_buffer: bool = field(
        default=True,
        metadata=_meta(
            flag="--no-replay-buffer",
            flag_help="leave off-policy replay buffers out of checkpoints (smaller; a resumed run "
            "starts with an empty buffer)",
        ),
    )
    """Off-policy algorithms (SAC, TD3, DQN …): put the replay buffer in each checkpoint, so a
    resumed run learns from the same memory. It can be large (SB3 pickles it)."""

    run_dir: str | None = field(default=None, metadata=_meta(flag="--out", metavar="RUN_DIR"))
    """The run folder; ``None``: ``runs/<env>-<teacher>-<algorithm>-s<seed>``."""

    imports: list[str] = field(
        default_factory=list, metadata=_meta(flag="--import", metavar="MODULE")
    )
    """Modules imported first (and in each sub-process) that register your teachers, envs or
    algorithms: a module name, found on the Python path or in the current directory, or a path
    to a ``.py`` file or package folder. Files and modules of the current directory are saved as
    absolute paths (``resolve_imports``), so a resumed run finds them from any directory."""

    torch_threads: int | None = field(default=None, metadata=_meta(minimum=1, metavar="N"))
    """``torch.set_num_threads`` for this process; ``None`` keeps torch's default."""

    verbose: int = field(default=0, metadata=_meta(minimum=0, metavar="LEVEL"))
    """SB3 verbosity (1 also prints SB3's log table to stdout)."""

    # ------------------------------------------------------------------ checks and JSON
    def validate(self) -> None:
        """Check names and values. Imports the ``imports`` modules first, so their teachers and
        algorithms count, and replaces each entry with its resolved form (``resolve_imports``).

        Raises:
            ValueError: the first bad field, with the valid choices.
        """
        from teachgym import teachers
        from teachgym.agents import sb3
        from teachgym.envs.factory import OBS_CHOICES

        if not isinstance(self.imports, (list, tuple)):
            raise ValueError(f"imports must be a list of modules; got {self.imports!r}")
        self.imports = resolve_imports(self.imports)
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
        if self.obs_wrapper not in OBS_CHOICES:
            raise ValueError(
                f"unknown obs_wrapper {self.obs_wrapper!r}; expected one of: "
                f"{', '.join(OBS_CHOICES)}"
            )
        teachers.get_class(self.teacher)  # lists the registered teachers when unknown
        if self.backend == "batched":
            self._validate_batched()
        else:
            sb3.algorithm_class(self.algorithm)  # lists the available algorithms when unknown
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            choices = spec.metadata.get("choices")
            if choices is not None and value not in choices:
                raise ValueError(
                    f"unknown {spec.name} {value!r}; expected one of: {', '.join(choices)}"
                )
        sb3.resolve_device(self.device)
        for spec in dataclasses.fields(self):
            minimum = spec.metadata.get("minimum")
            if minimum is None:
                continue
            check = check_optional_int if spec.default is None else check_int
            check(spec.name, getattr(self, spec.name), minimum=minimum)

    @property
    def resolved_n_envs(self) -> int:
        """``n_envs``, or the backend's default when it is ``None``."""
        return self.n_envs if self.n_envs is not None else DEFAULT_N_ENVS.get(self.backend, 4)

    def _validate_batched(self) -> None:
        """The ``batched`` backend's own checks: PPO only, no SB3 policy, PPO's fields."""
        from teachgym.agents.ppo import PPOConfig

        if self.algorithm != "ppo":
            raise ValueError(
                f"the batched backend trains teachgym's own PPO only; got algorithm "
                f"{self.algorithm!r} (use --backend sb3 for other stable-baselines3 algorithms)"
            )
        if self.policy is not None:
            raise ValueError(
                f"the batched backend takes no SB3 policy (got {self.policy!r}); choose its "
                "network with algorithm_kwargs network=mlp|cnn"
            )
        PPOConfig.from_kwargs(self.algorithm_kwargs)

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
        """``runs/<env name>-<teacher>-<algorithm>-s<seed>`` (``batched-ppo`` for the batched
        backend's PPO)."""
        env_name = self.env_id.split("/")[-1].split(":")[-1]
        algorithm = f"batched-{self.algorithm}" if self.backend == "batched" else self.algorithm
        return str(Path("runs") / f"{env_name}-{self.teacher}-{algorithm}-s{self.seed}")


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
