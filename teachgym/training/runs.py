"""The run folder: everything one training run leaves on disk (``docs/design.md``, "Runs and
evaluation"). ``RunDir`` is the one owner of its file names: the trainer, the evaluation, the
plots and the command line reach every file through a ``RunDir`` property.

::

    RUN_DIR/
      config.json              the resolved TrainConfig, derived seeds, library versions
      command.txt              the command line of the run and of every resume, one per line
      tb/                      TensorBoard events (SB3's rollout/, train/, teacher/, eval/)
      checkpoints/
        step_000000004096/     model.zip, teacher.npz, state.npz [, replay_buffer.pkl],
                               checkpoint.json (the manifest, written last)
        latest.json            name and step of the newest complete checkpoint (for people)
      eval.csv                 step, episodes, % mastered, mean return: one row per evaluation,
                               appended, never rewritten
      final_model.zip          the model at the end of training
      teacher.npz              the teacher's final state (``teachgym.state_io``)
      curriculum.npz           every episode the teacher saw: step, params, score, return
      eval_<model>_<kind>.csv/.json   per-task returns of model ``final`` (or checkpoint
                               ``step_…``) on test set ``uniform`` or ``grid`` (10 × 10, 2-D
                               spaces); ``train`` writes the final ones, ``teachgym eval`` any
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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from teachgym import state_io

__all__ = [
    "FINAL_MODEL",
    "RUN_FORMAT",
    "Checkpoint",
    "NotARunError",
    "RunDir",
    "is_run",
    "write_csv_atomically",
]

#: ``config.json["format"]``; bumped when the folder layout changes incompatibly.
RUN_FORMAT = "teachgym-run/1"

#: The name ``model_to_evaluate`` and ``eval_files`` give the model at the end of training.
FINAL_MODEL = "final"

_CONFIG_FILE = "config.json"
_MANIFEST_FILE = "checkpoint.json"
EVAL_COLUMNS = ("step", "episodes", "mastered_pct", "mean_return", "n_tasks")
_STEP_PREFIX = "step_"
_TEMPORARY_PREFIX = ".tmp-"


class CorruptCheckpointWarning(UserWarning):
    """A checkpoint folder has a manifest that is unreadable or lists missing files."""


class NotARunError(ValueError):
    """A folder is not a teachgym run folder (no readable ``config.json`` of ``RUN_FORMAT``)."""


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint folder.

    The names of its files are class attributes, so the trainer writes ``folder /
    Checkpoint.MODEL_FILE`` into the temporary folder that ``RunDir.save_checkpoint`` hands it,
    and readers use the path properties.

    Attributes:
        path: The folder.
        step: The training step (``model.num_timesteps``) it was taken at.
        files: The files its manifest lists (names inside ``path``).
    """

    MODEL_FILE: ClassVar[str] = "model.zip"
    TEACHER_FILE: ClassVar[str] = "teacher.npz"
    STATE_FILE: ClassVar[str] = "state.npz"
    REPLAY_BUFFER_FILE: ClassVar[str] = "replay_buffer.pkl"

    path: Path
    step: int
    files: tuple[str, ...]

    def file(self, name: str) -> Path | None:
        """``path / name`` when the checkpoint holds that file, else ``None``."""
        return self.path / name if name in self.files else None

    @property
    def model_file(self) -> Path:
        """The SB3 model (``model.save``)."""
        return self.path / self.MODEL_FILE

    @property
    def teacher_file(self) -> Path:
        """The teacher's full state (``teachgym.state_io``)."""
        return self.path / self.TEACHER_FILE

    @property
    def state_file(self) -> Path:
        """Counters, RNG states, episode history and evaluation rows (``teachgym.state_io``)."""
        return self.path / self.STATE_FILE

    @property
    def replay_buffer_file(self) -> Path | None:
        """The off-policy replay buffer, or ``None`` when the checkpoint has none."""
        return self.file(self.REPLAY_BUFFER_FILE)

    @property
    def manifest_file(self) -> Path:
        """``checkpoint.json``: the step and the files; written last, so it marks completion."""
        return self.path / _MANIFEST_FILE


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
        run.check_new()
        run.path.mkdir(parents=True, exist_ok=True)
        run.write_config(config)
        if command is not None:
            run.append_command(command)
        return run

    def check_new(self) -> None:
        """Check that a new run may be written here (nothing is created).

        Raises:
            ValueError: ``path`` exists and is not an empty folder (a run is never overwritten).
        """
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            hint = " (resume it with --resume)" if is_run(self.path) else ""
            raise ValueError(f"run folder {self.path} already exists and is not empty{hint}")

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
                f"{run.path} is not a teachgym run folder: it has no {_CONFIG_FILE} written by "
                f"`teachgym train` (format {RUN_FORMAT!r})"
            )
        return run

    def read_config(self) -> dict[str, Any]:
        """``config.json`` as written (with ``format``)."""
        return dict(json.loads(self.config_file.read_text()))

    def write_config(self, config: dict[str, Any]) -> None:
        """(Re)write ``config.json`` atomically: ``config`` with this layout's ``format``."""
        stored = {key: value for key, value in config.items() if key != "format"}
        state_io.write_json_atomically(self.config_file, {"format": RUN_FORMAT, **stored})

    def append_command(self, command: str) -> None:
        """Add one line to ``command.txt`` (rewritten atomically: old lines plus this one)."""
        path = self.command_file
        old = path.read_text() if path.is_file() else ""
        state_io.write_text_atomically(path, old + command.rstrip("\n") + "\n")

    # ------------------------------------------------------------------ named places
    @property
    def config_file(self) -> Path:
        """``config.json``: the resolved ``TrainConfig``, derived seeds, library versions."""
        return self.path / _CONFIG_FILE

    @property
    def command_file(self) -> Path:
        """``command.txt``: the command line of the run and of every resume."""
        return self.path / "command.txt"

    @property
    def tensorboard_dir(self) -> Path:
        """Where SB3's TensorBoard writer puts its events."""
        return self.path / "tb"

    @property
    def checkpoints_dir(self) -> Path:
        """The folder of checkpoint folders."""
        return self.path / "checkpoints"

    @property
    def latest_checkpoint_file(self) -> Path:
        """``checkpoints/latest.json``: name and step of the newest checkpoint (for people)."""
        return self.checkpoints_dir / "latest.json"

    @property
    def eval_csv(self) -> Path:
        """``eval.csv``: one row per evaluation during training (``EVAL_COLUMNS``), in the
        order they ran; rows are appended (``append_eval_row``), never rewritten."""
        return self.path / "eval.csv"

    @property
    def final_model_file(self) -> Path:
        """The SB3 model at the end of training."""
        return self.path / "final_model.zip"

    @property
    def teacher_file(self) -> Path:
        """The teacher's state at the end of training (``teachgym.state_io``)."""
        return self.path / "teacher.npz"

    @property
    def curriculum_file(self) -> Path:
        """Every episode the teacher saw: step, params, score, raw return (``state_io``)."""
        return self.path / "curriculum.npz"

    @property
    def mastery_grid_csv(self) -> Path:
        """Per-cell returns of the final model on the 10 × 10 grid of a 2-D space, as CSV."""
        return self.eval_files(FINAL_MODEL, "grid")[0]

    @property
    def mastery_grid_json(self) -> Path:
        """The final model's 10 × 10 grid evaluation (``EvalResult.write_json``); the mastery
        map's data."""
        return self.eval_files(FINAL_MODEL, "grid")[1]

    @property
    def summary_file(self) -> Path:
        """``summary.json``: final counters and mastery."""
        return self.path / "summary.json"

    @property
    def plots_dir(self) -> Path:
        """Where the pictures go."""
        return self.path / "plots"

    @property
    def teacher_samples_plot(self) -> Path:
        """Where the teacher sampled, over time."""
        return self.plots_dir / "teacher_samples.png"

    @property
    def learning_curve_plot(self) -> Path:
        """% of the test set mastered and returns over training steps."""
        return self.plots_dir / "learning_curve.png"

    @property
    def mastery_map_plot(self) -> Path:
        """Returns on the 10 × 10 grid of a 2-D space."""
        return self.plots_dir / "mastery_map.png"

    def eval_files(self, model: str, kind: str) -> tuple[Path, Path]:
        """Where an evaluation of ``model`` on test set ``kind`` goes, ``(csv, json)``; the
        training's final evaluation and ``teachgym eval RUN_DIR`` use the same names.

        Args:
            model: ``"final"`` (``final_model_file``) or a checkpoint's folder name
                (``"step_000000004096"``), as ``model_to_evaluate`` names it.
            kind: The test set, ``"uniform"`` or ``"grid"``.
        """
        stem = f"eval_{model}_{kind}"
        return self.path / f"{stem}.csv", self.path / f"{stem}.json"

    def model_to_evaluate(self, checkpoint: str = FINAL_MODEL) -> tuple[str, Path]:
        """The saved model that ``checkpoint`` means, and its name for ``eval_files``.

        Args:
            checkpoint: ``"final"``: the final model, else the newest checkpoint's (a run still
                training has no final model yet); ``"latest"``: the newest checkpoint's.

        Returns:
            ``("final", final_model_file)`` or ``(checkpoint folder name, its model file)``.

        Raises:
            ValueError: an unknown ``checkpoint``, or a run with no saved model yet.
        """
        if checkpoint not in (FINAL_MODEL, "latest"):
            raise ValueError(f"checkpoint must be 'final' or 'latest'; got {checkpoint!r}")
        if checkpoint == FINAL_MODEL and self.final_model_file.is_file():
            return FINAL_MODEL, self.final_model_file
        latest = self.latest_checkpoint()
        if latest is None:
            raise ValueError(
                f"run {self.path} has no saved model yet (no final model, no checkpoint)"
            )
        return latest.path.name, latest.model_file

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
                temporary / _MANIFEST_FILE, lambda file: file.write(manifest.encode())
            )
            os.rename(temporary, final)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        _fsync_dir(root)
        state_io.write_json_atomically(
            self.latest_checkpoint_file, {"checkpoint": final.name, "step": step}
        )
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
        the folders themselves say which are complete (see the module docstring).

        A newer checkpoint folder whose manifest exists but is unreadable, or lists files that
        are missing, is passed over with a ``CorruptCheckpointWarning`` naming it (a folder
        without a manifest is a write or a prune that a crash cut short: passed over quietly).
        """
        checkpoints = self.checkpoints()
        latest = checkpoints[-1] if checkpoints else None
        root = self.checkpoints_dir
        if root.is_dir():
            newest_step = -1 if latest is None else latest.step
            for folder in sorted(root.iterdir()):
                if not folder.name.startswith(_STEP_PREFIX):
                    continue
                problem = _checkpoint_problem(folder)
                if problem is not None and _folder_step(folder) > newest_step:
                    fallback = "no checkpoint" if latest is None else latest.path.name
                    warnings.warn(
                        f"checkpoint {folder} is corrupt ({problem}); resuming from "
                        f"{fallback} instead",
                        CorruptCheckpointWarning,
                        stacklevel=2,
                    )
        return latest

    def _prune(self, keep: int) -> None:
        for checkpoint in self.checkpoints()[:-keep]:
            # Manifest first: a folder half-deleted by a crash no longer counts as complete.
            checkpoint.manifest_file.unlink(missing_ok=True)
            shutil.rmtree(checkpoint.path, ignore_errors=True)

    def _remove_temporaries(self) -> None:
        for folder in self.checkpoints_dir.glob(f"{_TEMPORARY_PREFIX}*"):
            shutil.rmtree(folder, ignore_errors=True)

    # ------------------------------------------------------------------ eval.csv
    def read_eval_rows(self) -> list[dict[str, float]]:
        """The rows of ``eval.csv`` (empty when there is none)."""
        path = self.eval_csv
        if not path.is_file():
            return []
        with path.open(newline="") as file:
            return [
                {key: float(value) for key, value in row.items()} for row in csv.DictReader(file)
            ]

    def append_eval_row(self, row: dict[str, float]) -> bool:
        """Add one evaluation to ``eval.csv``, unless it already has a row at ``row["step"]``.

        The lines already in the file are kept byte for byte (the file is rewritten atomically
        as its old text plus the new line), so an evaluation, once recorded, is never replaced:
        not by a second evaluation at the same step, not by a resumed run.

        Returns:
            Whether the row was added.
        """
        if any(old["step"] == float(row["step"]) for old in self.read_eval_rows()):
            return False
        path = self.eval_csv
        old_text = path.read_text() if path.is_file() else ""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(EVAL_COLUMNS), lineterminator="\n")
        if not old_text:
            writer.writeheader()
        elif not old_text.endswith("\n"):
            old_text += "\n"
        writer.writerow(_printable_eval_row({column: row[column] for column in EVAL_COLUMNS}))
        state_io.write_text_atomically(path, old_text + buffer.getvalue())
        return True

    def write_eval_rows(self, rows: Sequence[dict[str, float]]) -> None:
        """Write ``eval.csv`` atomically with ``rows`` (columns ``EVAL_COLUMNS``), replacing
        the file: for a folder without one (tests, tools); training appends
        (``append_eval_row``)."""
        write_csv_atomically(self.eval_csv, EVAL_COLUMNS, [_printable_eval_row(r) for r in rows])


def is_run(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a ``config.json`` of ``RUN_FORMAT``."""
    config = Path(path) / _CONFIG_FILE
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


def _printable_eval_row(row: dict[str, float]) -> dict[str, float | int]:
    counts = ("step", "episodes", "n_tasks")  # written as integers
    return {key: int(value) if key in counts else value for key, value in row.items()}


def _folder_step(folder: Path) -> int:
    """The step a checkpoint folder's name says (``-1`` when it says none)."""
    try:
        return int(folder.name[len(_STEP_PREFIX) :])
    except ValueError:
        return -1


def _checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint folder with a manifest cannot be used; ``None`` when it can, or when it
    has no manifest at all (an interrupted write or prune, not a corruption)."""
    manifest_path = folder / _MANIFEST_FILE
    if not manifest_path.exists():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        files = [str(name) for name in manifest["files"]]
        int(manifest["step"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"unreadable {_MANIFEST_FILE}: {error}"
    missing = [name for name in files if not (folder / name).is_file()]
    return f"missing {', '.join(missing)}" if missing else None


def _read_checkpoint(folder: Path) -> Checkpoint | None:
    try:
        manifest = json.loads((folder / _MANIFEST_FILE).read_text())
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
