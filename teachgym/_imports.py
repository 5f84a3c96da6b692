"""A user's own modules (teachers, envs) named on the command line: import them, and record them
so that a resumed run, an evaluation or a worker process imports them again from any directory.

An entry is a module name (``mypkg.teachers``) or a path (``./myteach.py``, a package folder).
``resolve_imports`` turns what the user wrote into the recorded form; ``import_recorded``
imports a recorded entry (what ``teachgym.envs.make_env`` does in each worker process).
Standard library only, so every layer may use it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["import_recorded", "resolve_imports"]


def import_recorded(recorded: str) -> None:
    """Import an entry recorded by ``resolve_imports`` (a module name or an absolute path).

    Raises:
        ValueError: the module cannot be found or fails to import (saying where).
    """
    _import_recorded(recorded, shown=recorded)


def resolve_imports(entries: Sequence[str]) -> list[str]:
    """Import a user's modules and return how to record them, so that the record imports them
    again from any directory (a resumed run).

    An entry is a module name or a path. A name that Python finds on ``sys.path`` is kept as it
    is. A name found only in the current directory (where ``python -m`` would find it; the
    ``teachgym`` command does not look there) and a path to a ``.py`` file or a package folder
    (relative to the current directory) are recorded as an absolute path. A path is imported
    under its module name (its folder, or the folder above its outermost package, is added to
    the end of ``sys.path``), so its classes pickle by reference in worker processes;
    ``sys.modules`` also holds it under the recorded path, so that
    ``importlib.import_module(entry)`` of a recorded entry finds it in this process.

    Args:
        entries: Module names (``mypkg.teachers``) or paths (``./myteach.py``).

    Returns:
        One recorded entry per entry, in order.

    Raises:
        ValueError: an entry that is neither a module name nor a path, a path that does not
            exist or is not Python, a module that cannot be found, or one that fails to import
            (with the exception it raised and where).
    """
    resolved = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise ValueError(
                f"imports: expected a module name or a path to a .py file; got {entry!r}"
            )
        recorded = _recorded_import(entry.strip())
        _import_recorded(recorded, shown=entry.strip())
        resolved.append(recorded)
    return resolved


def _is_path(entry: str) -> bool:
    """A path (``./x.py``, ``x.py``, ``~/x``, an existing file) rather than a module name."""
    separators = [sep for sep in ("/", os.sep, os.altsep) if sep is not None]
    return (
        entry.endswith(".py")
        or any(sep in entry for sep in separators)
        or entry[0] in "~."
        or Path(entry).is_file()
    )


def _recorded_import(entry: str) -> str:
    """The form of ``entry`` to record: an absolute path, or a module name on ``sys.path``."""
    cwd = Path.cwd()
    if _is_path(entry):
        path = (cwd / Path(entry).expanduser()).resolve()
        expected = "expected a path to a .py file or a package folder, or a module name"
        if not path.exists():
            raise ValueError(f"imports: {entry!r} does not exist (no {path}); {expected}")
        if path.is_dir() and not (path / "__init__.py").is_file():
            raise ValueError(f"imports: {entry!r} is a folder without __init__.py; {expected}")
        if path.is_file() and path.suffix != ".py":
            raise ValueError(f"imports: {entry!r} is not a Python file; {expected}")
        return str(path)
    parts = entry.split(".")
    if not all(part.isidentifier() for part in parts):
        raise ValueError(
            f"imports: {entry!r} is neither a module name (e.g. mypkg.teachers) nor a path to "
            "a .py file; expected a module name or a path such as ./myteach.py"
        )
    try:
        if importlib.util.find_spec(parts[0]) is not None:
            # On sys.path (installed, PYTHONPATH, or the current directory under `python -m`):
            # recorded by name, which worker processes import too.
            return entry
    except (ImportError, ValueError):
        return entry  # let the import itself say what is wrong
    local = _module_in(cwd, parts)  # only in the current directory: record where
    if local is not None:
        return str(local)
    if importlib.machinery.PathFinder.find_spec(parts[0], [str(cwd)]) is not None:
        sys.path.append(str(cwd))  # a namespace package: no file to record, import by name
        return entry
    raise ValueError(
        f"imports: cannot import {entry!r}: no module named {parts[0]!r} on the Python path or "
        f"in the current directory ({cwd}); expected a module name (e.g. mypkg.teachers) or a "
        "path to a .py file (e.g. ./myteach.py)"
    )


def _module_in(folder: Path, parts: list[str]) -> Path | None:
    """The file (``a/b.py``) or package folder (``a/b``) of module ``a.b`` inside ``folder``."""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if (folder / part / "__init__.py").is_file():
            folder = folder / part
            if last:
                return folder
        elif last and (folder / f"{part}.py").is_file():
            return folder / f"{part}.py"
        else:
            return None
    return None


def _import_recorded(recorded: str, shown: str) -> None:
    """Import a recorded entry (``shown`` is what the user wrote, for messages)."""
    if not _is_path(recorded):
        _import_module(recorded, shown)
        return
    path = Path(recorded)
    file = path / "__init__.py" if path.is_dir() else path
    # The module's name: its stem, under every enclosing package (as pytest's "prepend" import
    # mode names a test file), so that `from .sibling import x` works inside a package.
    names, root = [path.stem], path.parent
    while (root / "__init__.py").is_file():
        names.insert(0, root.name)
        root = root.parent
    name = ".".join(names)
    if not all(part.isidentifier() for part in names):
        raise ValueError(
            f"imports: {shown!r}: {name!r} is not a module name Python can import; rename "
            f"{file.name} (letters, digits and underscores, not starting with a digit)"
        )
    if str(root) not in sys.path:
        sys.path.append(str(root))
        importlib.invalidate_caches()
    module = _import_module(name, shown)
    origin = getattr(module, "__file__", None)
    if origin is None or Path(origin).resolve() != file.resolve():
        raise ValueError(
            f"imports: {shown!r}: the name {name!r} already belongs to another module "
            f"({origin or 'built in'}); rename {file} so that its name is its own"
        )


def _import_module(name: str, shown: str) -> ModuleType:
    """``importlib.import_module(name)``, its failures as a ``ValueError`` that says where."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(f"{error.name}.")):
            raise ValueError(
                f"imports: cannot import {shown!r}: no module named {error.name!r}; expected a "
                "module name on the Python path or in the current directory, or a path to a "
                ".py file"
            ) from None
        raise ValueError(
            f"imports: importing {shown!r} failed: {error}{_where(error)}; install what it "
            "imports, or fix the module"
        ) from None
    except (Exception, SystemExit) as error:
        raise ValueError(
            f"imports: importing {shown!r} raised {type(error).__name__}: {error}"
            f"{_where(error)}; expected a module that imports without errors"
        ) from None


def _where(error: BaseException) -> str:
    """`` (at FILE, line N)``: the line of the imported module that failed (the outermost frame
    past this file and Python's import machinery)."""
    if isinstance(error, SyntaxError):
        return ""  # its message names the file and line already
    skipped = {Path(__file__).resolve(), *Path(importlib.__file__).resolve().parent.iterdir()}
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<") and Path(frame.filename).resolve() not in skipped
    ]
    if not frames:
        return ""
    return f" (at {frames[0].filename}, line {frames[0].lineno})"
