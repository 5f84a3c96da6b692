"""Progress bars for long work, drawn with rich on stderr.

``progress_task("training", total)`` is a context manager yielding a ``ProgressTask``. Rich
allows one live display at a time, so a task opened while another is showing (an evaluation
during training) becomes a second line of the same display instead of a second display.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["ProgressTask", "progress_task"]

_active: Progress | None = None


class ProgressTask:
    """One line of a progress display; a no-op when disabled.

    Args:
        progress: The rich display, or ``None`` when bars are off.
        task: The line's id in ``progress``.
    """

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def update(self, completed: float) -> None:
        """Set how much is done."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=completed)

    def advance(self, amount: float = 1) -> None:
        """Add ``amount`` to what is done."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)


@contextmanager
def progress_task(
    description: str, total: float, *, enabled: bool = True, completed: int = 0
) -> Iterator[ProgressTask]:
    """Show a progress line for the ``with`` block (nothing when ``enabled`` is false)."""
    global _active
    if not enabled:
        yield ProgressTask(None, None)
        return
    if _active is not None:  # nested: a line in the display that is already live
        outer = _active
        task = outer.add_task(description, total=total, completed=completed)
        try:
            yield ProgressTask(outer, task)
        finally:
            outer.remove_task(task)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    _active = progress
    try:
        with progress:
            task = progress.add_task(description, total=total, completed=completed)
            yield ProgressTask(progress, task)
    finally:
        _active = None
