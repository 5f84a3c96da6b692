"""Save and load nested plain-data states (teacher states, checkpoints) without pickle.

A state is a tree of dicts, lists, strings, numbers, ``None`` and numpy arrays. ``save`` writes
one ``.npz`` file: every array becomes an entry of its own and the rest of the tree is stored as
JSON in the entry ``__tree__``, where each array is replaced by ``{"__array__": key}``. ``load``
opens the file with ``allow_pickle=False``, so a state from someone else cannot run code.
The file is written to a temporary name and renamed, so a crash never leaves half a state.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

_TREE_KEY = "__tree__"
_ARRAY_MARK = "__array__"


def save(state: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``state`` atomically to ``path`` (``.npz`` is appended when missing)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays: dict[str, np.ndarray] = {}
    tree = _split(state, arrays, "")
    arrays[_TREE_KEY] = np.array(json.dumps(tree))
    write_atomically(path, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]
    return path


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Run ``write(file)`` on a temporary file beside ``path``, sync it, and rename it over
    ``path``: readers (and a run resumed after a crash) see the old file or the whole new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates the file private (0600); give it the permissions open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` with ``write_atomically``."""
    data = text.encode("utf-8")
    write_atomically(path, lambda file: file.write(data))


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON with ``write_atomically``."""
    write_text_atomically(path, json.dumps(data, indent=2) + "\n")


def save_figure(figure: Any, path: str | os.PathLike[str]) -> Path:
    """Write a matplotlib ``Figure`` as PNG, atomically (no pyplot, so no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    path = Path(path)
    FigureCanvasAgg(figure)
    write_atomically(path, lambda file: figure.savefig(file, format="png"))
    return path


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a state written by ``save``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a teachgym state.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no state file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            files = set(archive.files)
            tree_text = str(archive[_TREE_KEY]) if _TREE_KEY in files else None
            arrays = {key: archive[key] for key in files if key != _TREE_KEY}
        tree = None if tree_text is None else json.loads(tree_text)
    except (OSError, ValueError, zipfile.BadZipFile, AttributeError) as error:
        # np.load treats a non-archive as a pickle and refuses it with a ValueError.
        raise ValueError(f"{path} is not a readable teachgym state file: {error}") from error
    if tree is None:
        raise ValueError(f"{path} is not a teachgym state file (no {_TREE_KEY} entry)")
    return _join(tree, arrays)


def _split(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"state entry {prefix or '<root>'} is an object array; not plain data")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {_ARRAY_MARK: key}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"state keys must be strings; got {key!r} under {prefix}")
        return {key: _split(item, arrays, f"{prefix}/{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(item, arrays, f"{prefix}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"state entry {prefix or '<root>'} has type {type(value).__name__}")


def _join(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_MARK}:
            return arrays[tree[_ARRAY_MARK]]
        return {key: _join(item, arrays) for key, item in tree.items()}
    if isinstance(tree, list):
        return [_join(item, arrays) for item in tree]
    return tree
