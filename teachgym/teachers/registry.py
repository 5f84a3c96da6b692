"""Teacher registry: names such as ``"alp-gmm"`` map to ``Teacher`` subclasses.

``make`` is how configs, the CLI and the training loop build teachers, so a user's own teacher,
once ``register``-ed, is usable everywhere a built-in one is.
"""

from __future__ import annotations

from typing import Any

from gymnasium import spaces

from teachgym.spaces import ParamSpace
from teachgym.teachers.base import Teacher, constructor_problem, hyperparameter_names

_REGISTRY: dict[str, type[Teacher]] = {}


def register(name: str, cls: type[Teacher], *, overwrite: bool = False) -> type[Teacher]:
    """Make ``cls`` available as ``make(name, ...)``. Returns ``cls`` (usable as a decorator
    helper: ``register("mine", Mine)``).

    Raises:
        ValueError: ``name`` is empty or taken (unless ``overwrite``), ``cls`` is not a
            ``Teacher`` subclass, or its constructor does not take ``seed``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a teacher name must be a non-empty string; got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Teacher)):
        raise ValueError(f"can only register Teacher subclasses; got {cls!r}")
    problem = constructor_problem(cls)
    if problem is not None:
        raise ValueError(f"cannot register {name!r}: {problem}")
    if name in _REGISTRY and _REGISTRY[name] is not cls and not overwrite:
        raise ValueError(
            f"teacher name {name!r} is already registered to {_REGISTRY[name].__qualname__}; "
            "pass overwrite=True to replace it"
        )
    _REGISTRY[name] = cls
    if cls.__dict__.get("registry_name") is None:
        cls.registry_name = name
    return cls


def available() -> list[str]:
    """Registered teacher names, sorted."""
    return sorted(_REGISTRY)


def get_class(name: str) -> type[Teacher]:
    """The class registered as ``name``.

    Raises:
        ValueError: unknown name; the message lists the available ones.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown teacher {name!r}; available teachers: {', '.join(available())}"
        ) from None


def make(
    name: str,
    param_space: ParamSpace | spaces.Box,
    *,
    seed: int | None = None,
    **hyperparameters: Any,
) -> Teacher:
    """Build the teacher registered as ``name``.

    Raises:
        ValueError: unknown teacher name or hyperparameter (the message lists the valid ones), or
            a constructor that does not take ``seed``.
    """
    cls = get_class(name)
    problem = constructor_problem(cls)
    if problem is not None:
        raise ValueError(f"cannot make teacher {name!r}: {problem}")
    accepted = hyperparameter_names(cls)
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(
            f"teacher {name!r} has no hyperparameter(s) {unknown}; "
            f"it accepts: {', '.join(accepted) or 'none'}"
        )
    return cls(param_space, seed=seed, **hyperparameters)
