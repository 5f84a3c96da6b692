"""stable-baselines3 students: any SB3 algorithm by name, on teachgym envs.

PPO and any stable-baselines3 algorithm train through the curriculum wrapper (``docs/design.md``,
"Agents"); ``device="auto"`` picks CUDA when present and CPU-only machines must work. This module
is the one place that knows SB3's classes, so the training loop, evaluation and the CLI share it:

======================  ===============================================================
``algorithm_class``     ``"ppo"`` → ``stable_baselines3.PPO`` (also a2c, dqn, sac, td3,
                        ddpg; sb3-contrib's when installed; yours via ``register_algorithm``)
``resolve_device``      ``"auto" | "cpu" | "cuda[:N]"`` → a device that exists here
``build_model``         an algorithm instance, its keyword arguments checked first
``load_model``          a saved ``.zip`` back, on a chosen device
======================  ===============================================================

Envs are built by ``teachgym.envs.make_env`` (which adds the observation wrapper SB3 needs on
grid envs). Everything that can be wrong with a name or value raises ``ValueError`` listing the
valid choices *before* any training starts.

Needs the ``train`` extra: ``pip install "teachgym[train]"``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

from gymnasium import spaces

try:
    import stable_baselines3 as sb3
    import torch
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.preprocessing import is_image_space
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'training needs the train extra: pip install "teachgym[train]" '
        "(on CPU-only machines install torch==2.13.0 first)"
    ) from error

__all__ = [
    "algorithm_class",
    "available_algorithms",
    "build_model",
    "default_policy",
    "load_model",
    "register_algorithm",
    "resolve_device",
    "resolve_policy_kwargs",
]

# Built-in names → (module attribute in stable_baselines3, action spaces the algorithm takes).
# The action spaces are checked up front, so `--algo sac` on a grid env fails with a list of
# algorithms that fit instead of an AssertionError from inside SB3's constructor.
_ALL_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)
_SB3_ALGORITHMS: dict[str, tuple[str, tuple[type[spaces.Space[Any]], ...]]] = {
    "a2c": ("A2C", _ALL_SPACES),
    "ddpg": ("DDPG", (spaces.Box,)),
    "dqn": ("DQN", (spaces.Discrete,)),
    "ppo": ("PPO", _ALL_SPACES),
    "sac": ("SAC", (spaces.Box,)),
    "td3": ("TD3", (spaces.Box,)),
}
# sb3-contrib (optional): loaded only when installed.
_CONTRIB_ALGORITHMS: dict[str, tuple[str, tuple[type[spaces.Space[Any]], ...]]] = {
    "ars": ("ARS", (spaces.Box, spaces.Discrete)),
    "crossq": ("CrossQ", (spaces.Box,)),
    "qrdqn": ("QRDQN", (spaces.Discrete,)),
    "tqc": ("TQC", (spaces.Box,)),
    "trpo": ("TRPO", _ALL_SPACES),
}
_USER_ALGORITHMS: dict[str, type[BaseAlgorithm]] = {}

# Arguments build_model sets itself; a user passing them in algorithm_kwargs is a mistake.
_RESERVED_KWARGS = ("policy", "env", "seed", "device", "verbose", "_init_setup_model")


def register_algorithm(name: str, cls: type[BaseAlgorithm], *, overwrite: bool = False) -> None:
    """Make a ``BaseAlgorithm`` subclass trainable as ``algorithm=name`` (and ``--algo name``).

    Raises:
        ValueError: ``name`` is taken (unless ``overwrite``) or ``cls`` is not an SB3 algorithm.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseAlgorithm)):
        raise ValueError(f"can only register stable-baselines3 BaseAlgorithm classes; got {cls!r}")
    key = name.strip().lower()
    if not key:
        raise ValueError("an algorithm name must be a non-empty string")
    if key in available_algorithms() and not overwrite:
        raise ValueError(f"algorithm name {key!r} is taken; pass overwrite=True to replace it")
    _USER_ALGORITHMS[key] = cls


def available_algorithms() -> list[str]:
    """Algorithm names ``algorithm_class`` accepts here (sorted)."""
    names = set(_SB3_ALGORITHMS) | set(_USER_ALGORITHMS)
    if _contrib() is not None:
        names |= set(_CONTRIB_ALGORITHMS)
    return sorted(names)


def algorithm_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 class for ``name`` (case-insensitive: ``"ppo"``, ``"SAC"`` …).

    Raises:
        ValueError: unknown name; the message lists the available ones.
    """
    key = str(name).strip().lower()
    if key in _USER_ALGORITHMS:
        return _USER_ALGORITHMS[key]
    if key in _SB3_ALGORITHMS:
        cls: type[BaseAlgorithm] = getattr(sb3, _SB3_ALGORITHMS[key][0])
        return cls
    contrib = _contrib()
    if contrib is not None and key in _CONTRIB_ALGORITHMS:
        cls = getattr(contrib, _CONTRIB_ALGORITHMS[key][0])
        return cls
    raise ValueError(
        f"unknown algorithm {name!r}; available algorithms: {', '.join(available_algorithms())}"
    )


def check_action_space(name: str, action_space: spaces.Space[Any], env_id: str = "the env") -> None:
    """Raise ``ValueError`` when algorithm ``name`` cannot act in ``action_space``, naming the
    algorithms that can. User-registered algorithms are checked by SB3 at construction."""
    key = str(name).strip().lower()
    table = {**_SB3_ALGORITHMS, **(_CONTRIB_ALGORITHMS if _contrib() is not None else {})}
    if key in _USER_ALGORITHMS or key not in table:
        return
    if not isinstance(action_space, table[key][1]):
        fitting = sorted(n for n, (_, kinds) in table.items() if isinstance(action_space, kinds))
        raise ValueError(
            f"algorithm {key!r} does not support {env_id}'s action space {action_space}; "
            f"algorithms that do: {', '.join(fitting)}"
        )


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` when torch sees a GPU, else ``"cpu"``; others checked.

    Raises:
        ValueError: not one of ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, or CUDA asked for on
            a machine without it.
    """
    text = str(device).strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return "cpu"
    if text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA GPU "
                "here; use device 'auto' or 'cpu'"
            )
        if ":" in text and int(text[5:]) >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here"
            )
        return text
    raise ValueError(f"unknown device {device!r}; expected one of: auto, cpu, cuda, cuda:N")


def default_policy(observation_space: spaces.Space[Any]) -> str:
    """``MultiInputPolicy`` for ``Dict`` observations, ``CnnPolicy`` for images NatureCNN can
    take (≥ 36 × 36 pixels), ``MlpPolicy`` otherwise (including MiniGrid's 7 × 7 codes, which
    SB3 would otherwise read as a too-small image; see ``teachgym.envs.wrappers``)."""
    if isinstance(observation_space, spaces.Dict):
        return "MultiInputPolicy"
    if is_image_space(observation_space, check_channels=True):
        shape = observation_space.shape
        assert shape is not None
        height, width = (shape[1], shape[2]) if shape[0] in (1, 3, 4) else (shape[0], shape[1])
        if min(height, width) >= 36:
            return "CnnPolicy"
    return "MlpPolicy"


def check_algorithm_kwargs(cls: type[BaseAlgorithm], kwargs: dict[str, Any]) -> None:
    """Raise ``ValueError`` for keyword arguments ``cls`` does not take, listing those it does."""
    reserved = sorted(set(kwargs) & set(_RESERVED_KWARGS))
    if reserved:
        raise ValueError(
            f"algorithm_kwargs may not set {reserved}: the training config sets them "
            "(use the policy, seed and device fields)"
        )
    parameters = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [
        name
        for name in parameters
        if name not in ("self", *_RESERVED_KWARGS) and not name.startswith("_")
    ]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(
            f"{cls.__name__} has no argument(s) {unknown}; it accepts: {', '.join(accepted)}"
        )


def build_model(
    algorithm: str,
    env: Any,
    *,
    policy: str | None = None,
    seed: int | None = None,
    device: str = "auto",
    verbose: int = 0,
    **algorithm_kwargs: Any,
) -> BaseAlgorithm:
    """An SB3 algorithm instance on ``env`` (a ``VecEnv`` or a Gymnasium env).

    SB3 seeds Python's ``random``, NumPy's global generator and torch's global generator with
    ``seed`` (``set_random_seed``) and the action space's generator: the one use of global RNG
    state in teachgym, owned by SB3 and checkpointed by ``teachgym.training.runs``.

    Args:
        algorithm: A name from ``available_algorithms()``.
        env: The training env.
        policy: SB3 policy name or class; ``None`` picks ``default_policy``.
        seed: SB3's seed.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (see ``resolve_device``).
        verbose: SB3's verbosity.
        **algorithm_kwargs: The algorithm's own arguments (``n_steps``, ``learning_rate`` …).

    Raises:
        ValueError: unknown algorithm, device or argument, or an action space it cannot use.
    """
    cls = algorithm_class(algorithm)
    check_action_space(algorithm, env.action_space)
    check_algorithm_kwargs(cls, algorithm_kwargs)
    resolved_device = resolve_device(device)
    if isinstance(algorithm_kwargs.get("policy_kwargs"), dict):
        algorithm_kwargs["policy_kwargs"] = resolve_policy_kwargs(algorithm_kwargs["policy_kwargs"])
    try:
        return cls(
            policy or default_policy(env.observation_space),
            env,
            seed=seed,
            device=resolved_device,
            verbose=verbose,
            **algorithm_kwargs,
        )
    except AssertionError as error:  # SB3 asserts on unsupported spaces and bad combinations
        raise ValueError(f"{cls.__name__} rejected this configuration: {error}") from None


# policy_kwargs entries that SB3 wants as classes; a run's config (JSON) names them instead.
_CLASS_KWARGS = {"activation_fn": torch.nn, "optimizer_class": torch.optim}


def resolve_policy_kwargs(policy_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``policy_kwargs`` with class names turned into classes, so a JSON config can say
    ``{"activation_fn": "ReLU", "optimizer_class": "AdamW"}`` (``torch.nn`` / ``torch.optim``).

    Raises:
        ValueError: a name that is not in ``torch.nn`` / ``torch.optim``.
    """
    resolved = dict(policy_kwargs)
    for key, module in _CLASS_KWARGS.items():
        name = resolved.get(key)
        if isinstance(name, str):
            value = getattr(module, name, None)
            if not isinstance(value, type):
                raise ValueError(
                    f"policy_kwargs[{key!r}] = {name!r} is not a class in {module.__name__} "
                    f"(e.g. {'ReLU, Tanh' if module is torch.nn else 'Adam, AdamW'})"
                )
            resolved[key] = value
    return resolved


def load_model(
    path: str, algorithm: str = "ppo", *, env: Any = None, device: str = "auto"
) -> BaseAlgorithm:
    """``algorithm_class(algorithm).load(path, env=env, device=...)``.

    Raises:
        ValueError: unknown algorithm or device.
        FileNotFoundError: no file at ``path``.
    """
    from pathlib import Path

    cls = algorithm_class(algorithm)
    resolved_device = resolve_device(device)
    if not Path(path).is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    return cls.load(path, env=env, device=resolved_device)


@functools.cache
def _contrib() -> Any:
    try:
        return importlib.import_module("sb3_contrib")
    except ImportError:
        return None
