"""One progress bar for long commands (rich, on stderr): `with progress_bar(...) as advance:
advance(n)`. On a terminal it draws; elsewhere (CI, a pipe) it stays silent unless asked."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def progress_bar(
    label: str, total: int | None, enabled: bool | None = None, file: IO[str] | None = None
) -> Iterator[Callable[[int], None]]:
    """Yields `advance(n=1)`. Drawn on stderr, or on `file` (a command's stdout: its last
    state stays in the output); `enabled` None means: only when stderr is a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:

        def nothing(n: int = 1) -> None:
            return None

        yield nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=file, highlight=False) if file else Console(stderr=True),
    ) as progress:
        task = progress.add_task("", total=total)

        def advance(n: int = 1) -> None:
            progress.advance(task, n)

        yield advance
