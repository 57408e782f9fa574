"""A task the Redis (RQ) worker can import in another process."""

from pathlib import Path

from django_tasks import task


@task()
def write_marker(path: str, text: str) -> str:
    Path(path).write_text(text)
    return text
