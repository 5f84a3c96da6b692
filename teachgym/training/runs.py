"""The run folder: everything one training run leaves on disk (DESIGN.md, "Runs, evaluation,
CLI"; issue #4, items 3–4).

::

    RUN_DIR/
      config.json              the resolved TrainConfig, derived seeds, library versions
      command.txt              the command line of the run and of every resume, one per line
      tb/                      TensorBoard events (SB3's rollout/, train/, teacher/, eval/)
      checkpoints/
        step_000000004096/     model.zip, teacher.npz, state.npz [, replay_buffer.pkl],
                               checkpoint.json (the manifest, written last)
        latest.json            name and step of the newest complete checkpoint (for people)
      eval.csv                 step, episodes, % mastered, mean return at each evaluation
      final_model.zip          the model at the end of training
      teacher.npz              the teacher's final state (``teachgym.state_io``)
      curriculum.npz           every episode the teacher saw: step, params, score, return
      eval_final.csv/.json     per-task returns of the final test-set evaluation
      mastery_grid.csv         per-cell returns on the 10 × 10 grid (2-D spaces)
      plots/                   teacher_samples.png, learning_curve.png, mastery_map.png
      summary.json             final counters and mastery

Checkpoints are written so that a run killed at any instant (SIGKILL, power loss) keeps its last
complete checkpoint: files go into a hidden temporary folder, each is fsync-ed, the manifest is
written last, and the folder is renamed into place (``os.rename`` of a folder is atomic on one
file system). A checkpoint counts only when its manifest and every file it lists exist; older
ones are pruned after the new one is in place, manifest first, so a half-deleted folder is
never mistaken for a complete one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teachgym import state_io

__all__ = [
    "RUN_FORMAT",
    "Checkpoint",
    "NotARunError",
    "RunDir",
    "is_run",
    "write_csv_atomically",
]

#: ``config.json["format"]``; bumped when the folder layout changes incompatibly.
RUN_FORMAT = "teachgym-run/1"

CONFIG_FILE = "config.json"
COMMAND_FILE = "command.txt"
CHECKPOINT_DIR = "checkpoints"
MANIFEST_FILE = "checkpoint.json"
LATEST_FILE = "latest.json"
EVAL_FILE = "eval.csv"
EVAL_COLUMNS = ("step", "episodes", "mastered_pct", "mean_return", "n_tasks")
_STEP_PREFIX = "step_"
_TEMPORARY_PREFIX = ".tmp-"


class NotARunError(ValueError):
    """A folder is not a teachgym run folder (no readable ``config.json`` of ``RUN_FORMAT``)."""


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint folder.

    Attributes:
        path: The folder.
        step: The training step (``model.num_timesteps``) it was taken at.
        files: The files its manifest lists (names inside ``path``).
    """

    path: Path
    step: int
    files: tuple[str, ...]

    def file(self, name: str) -> Path | None:
        """``path / name`` when the checkpoint holds that file, else ``None``."""
        return self.path / name if name in self.files else None


class RunDir:
    """One run folder. Build with ``RunDir.create`` (a new run) or ``RunDir.open`` (resume,
    evaluation).

    Args:
        path: The folder.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ creation and opening
    @classmethod
    def create(
        cls, path: str | os.PathLike[str], config: dict[str, Any], command: str | None = None
    ) -> RunDir:
        """Make a new run folder holding ``config.json`` and ``command.txt``.

        Raises:
            ValueError: ``path`` exists and is not an empty folder (a run is never overwritten).
        """
        run = cls(path)
        if run.path.exists() and (not run.path.is_dir() or any(run.path.iterdir())):
            hint = " (resume it with --resume)" if is_run(run.path) else ""
            raise ValueError(f"run folder {run.path} already exists and is not empty{hint}")
        run.path.mkdir(parents=True, exist_ok=True)
        state_io.write_json_atomically(run.path / CONFIG_FILE, {"format": RUN_FORMAT, **config})
        if command is not None:
            run.append_command(command)
        return run

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """Open an existing run folder.

        Raises:
            NotARunError: ``path`` is missing or is not a teachgym run folder.
        """
        run = cls(path)
        if not run.path.is_dir():
            raise NotARunError(f"{run.path} is not a folder, so not a teachgym run folder")
        if not is_run(run.path):
            raise NotARunError(
                f"{run.path} is not a teachgym run folder: it has no {CONFIG_FILE} written by "
                f"`teachgym train` (format {RUN_FORMAT!r})"
            )
        return run

    def read_config(self) -> dict[str, Any]:
        """``config.json`` as written (with ``format``)."""
        return dict(json.loads((self.path / CONFIG_FILE).read_text()))

    def append_command(self, command: str) -> None:
        """Add one line to ``command.txt`` (rewritten atomically: old lines plus this one)."""
        path = self.path / COMMAND_FILE
        old = path.read_text() if path.is_file() else ""
        state_io.write_text_atomically(path, old + command.rstrip("\n") + "\n")

    # ------------------------------------------------------------------ named places
    @property
    def tensorboard_dir(self) -> Path:
        """Where SB3's TensorBoard writer puts its events."""
        return self.path / "tb"

    @property
    def plots_dir(self) -> Path:
        """Where the pictures go."""
        return self.path / "plots"

    @property
    def checkpoints_dir(self) -> Path:
        """The folder of checkpoint folders."""
        return self.path / CHECKPOINT_DIR

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(
        self, step: int, write: Callable[[Path], Sequence[str]], keep: int = 2
    ) -> Checkpoint:
        """Write a checkpoint atomically and prune older ones.

        Args:
            step: The training step; names the folder ``step_<12 digits>``.
            write: Writes the checkpoint's files into the (temporary) folder it is given and
                returns their names. Files are fsync-ed here afterwards.
            keep: Complete checkpoints to keep (the newest ones), at least 1.

        Returns:
            The new checkpoint (or the existing one when one was already taken at ``step``).
        """
        root = self.checkpoints_dir
        root.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries()
        final = root / f"{_STEP_PREFIX}{step:012d}"
        existing = _read_checkpoint(final)
        if existing is not None:
            return existing
        if final.exists():  # an incomplete folder of the same name (killed while pruning)
            shutil.rmtree(final)
        temporary = root / f"{_TEMPORARY_PREFIX}{final.name}-{os.getpid()}"
        if temporary.exists():
            shutil.rmtree(temporary)
        temporary.mkdir()
        try:
            files = tuple(write(temporary))
            for name in files:
                _fsync_file(temporary / name)
            manifest = json.dumps({"step": step, "files": list(files)}, indent=2) + "\n"
            state_io.write_atomically(
                temporary / MANIFEST_FILE, lambda file: file.write(manifest.encode())
            )
            os.rename(temporary, final)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        _fsync_dir(root)
        state_io.write_json_atomically(root / LATEST_FILE, {"checkpoint": final.name, "step": step})
        checkpoint = Checkpoint(final, step, files)
        self._prune(max(1, keep))
        return checkpoint

    def checkpoints(self) -> list[Checkpoint]:
        """Complete checkpoints, oldest first."""
        root = self.checkpoints_dir
        if not root.is_dir():
            return []
        found = [
            checkpoint
            for folder in root.iterdir()
            if folder.name.startswith(_STEP_PREFIX)
            and (checkpoint := _read_checkpoint(folder)) is not None
        ]
        return sorted(found, key=lambda checkpoint: checkpoint.step)

    def latest_checkpoint(self) -> Checkpoint | None:
        """The newest complete checkpoint, or ``None``. ``latest.json`` is not trusted here:
        the folders themselves say which are complete (see the module docstring)."""
        checkpoints = self.checkpoints()
        return checkpoints[-1] if checkpoints else None

    def _prune(self, keep: int) -> None:
        for checkpoint in self.checkpoints()[:-keep]:
            # Manifest first: a folder half-deleted by a crash no longer counts as complete.
            (checkpoint.path / MANIFEST_FILE).unlink(missing_ok=True)
            shutil.rmtree(checkpoint.path, ignore_errors=True)

    def _remove_temporaries(self) -> None:
        for folder in self.checkpoints_dir.glob(f"{_TEMPORARY_PREFIX}*"):
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------ eval.csv
    def read_eval_rows(self) -> list[dict[str, float]]:
        """The rows of ``eval.csv`` (empty when there is none)."""
        path = self.path / EVAL_FILE
        if not path.is_file():
            return []
        with path.open(newline="") as file:
            return [
                {key: float(value) for key, value in row.items()} for row in csv.DictReader(file)
            ]

    def write_eval_rows(self, rows: Sequence[dict[str, float]]) -> None:
        """Rewrite ``eval.csv`` atomically with ``rows`` (columns ``EVAL_COLUMNS``)."""
        counts = ("step", "episodes", "n_tasks")  # written as integers
        printable = [
            {key: int(value) if key in counts else value for key, value in row.items()}
            for row in rows
        ]
        write_csv_atomically(self.path / EVAL_FILE, EVAL_COLUMNS, printable)


def is_run(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a ``config.json`` of ``RUN_FORMAT``."""
    config = Path(path) / CONFIG_FILE
    try:
        return bool(json.loads(config.read_text()).get("format") == RUN_FORMAT)
    except (OSError, ValueError, AttributeError):
        return False


def write_csv_atomically(
    path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Write ``rows`` as a CSV with a header, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row[column] for column in columns})
    state_io.write_text_atomically(path, buffer.getvalue())


def _read_checkpoint(folder: Path) -> Checkpoint | None:
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        files = tuple(str(name) for name in manifest["files"])
        step = int(manifest["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all((folder / name).is_file() for name in files):
        return None
    return Checkpoint(folder, step, files)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def _fsync_dir(path: Path) -> None:
    """Persist a rename in ``path`` (POSIX; a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
