"""A task the Redis (RQ) worker can import in another process."""

from pathlib import Path

from django_tasks import task


@task()
def write_marker(path: str, text: str) -> str:
    Path(path).write_text(text)
    return text


@task()
def write_marker_slowly(path: str, text: str, seconds: float) -> str:
    """Seconds of work, then the marker: a stand-in for the insights' analysis."""
    import time

    time.sleep(seconds)
    Path(path).write_text(text)
    return text
