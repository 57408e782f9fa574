"""The reader supervisor behind `pollchannels --loop` and `fetchmail --loop`, driven
with real threads: one reader per wanted channel, replaced when its settings change
or it dies, stopped when the channel goes, all stopped at the end."""

import threading
import time

import pytest

from adesso.ops.supervisor import supervise


class Reader(threading.Thread):
    """Reads nothing: waits until stopped, or dies on request."""

    def __init__(self, key: int, started: list[tuple[int, "Reader"]]) -> None:
        super().__init__(daemon=True)
        self.key = key
        self.stop = threading.Event()
        self.die = threading.Event()
        started.append((key, self))

    def run(self) -> None:
        while not self.stop.is_set() and not self.die.is_set():
            time.sleep(0.005)


def wait_for(predicate, timeout: float = 5.0) -> None:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"not within {timeout} s"
        time.sleep(0.01)


@pytest.fixture
def harness():
    wanted: dict[int, str] = {}
    started: list[tuple[int, Reader]] = []
    stopping = threading.Event()
    thread = threading.Thread(
        target=supervise,
        args=(lambda: dict(wanted), lambda key: Reader(key, started), 0.02, stopping),
        kwargs={"join_timeout": 5.0},
        daemon=True,
    )
    yield wanted, started, stopping, thread
    stopping.set()
    thread.join(timeout=5)


def test_one_reader_per_channel_kept_in_step_with_the_settings(harness):
    wanted, started, stopping, thread = harness
    wanted.update({1: "imap.one", 2: "imap.two"})
    thread.start()
    wait_for(lambda: len(started) == 2)
    first_of_1 = dict(started)[1]

    wanted[1] = "imap.one-new-password"  # settings changed: a new reader
    wait_for(lambda: len(started) == 3)
    assert started[2][0] == 1
    assert first_of_1.stop.is_set()
    assert not first_of_1.is_alive()  # joined before its successor started

    del wanted[2]  # disabled: its reader stops, none replaces it
    reader_of_2 = dict(started[:2])[2]
    wait_for(lambda: not reader_of_2.is_alive())
    time.sleep(0.1)
    assert [key for key, _ in started] == [1, 2, 1]

    started[2][1].die.set()  # a reader that died is started again
    wait_for(lambda: len(started) == 4)
    assert started[3][0] == 1

    stopping.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert all(reader.stop.is_set() and not reader.is_alive() for _, reader in started)


def test_no_channel_idles_until_stopped(harness):
    _wanted, started, stopping, thread = harness
    thread.start()
    time.sleep(0.1)
    stopping.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert started == []
