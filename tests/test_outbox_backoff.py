"""The retry schedule: a pure function of the attempts made."""

import datetime as dt

from adesso.outbox.backoff import MAX_ATTEMPTS, MAX_DELAY, retry_delay


def seconds(attempts, rand, retry_after=None):
    return retry_delay(attempts, retry_after, rand=lambda: rand).total_seconds()


def test_the_schedule_without_jitter():
    assert [seconds(n, 0.5) for n in range(1, MAX_ATTEMPTS)] == [
        30,
        120,
        600,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
    ]


def test_jitter_stays_within_a_fifth():
    assert seconds(1, 0.0) == 24
    assert seconds(1, 0.999999) < 36


def test_no_attempt_left_after_the_last():
    assert retry_delay(MAX_ATTEMPTS - 1) is not None
    assert retry_delay(MAX_ATTEMPTS) is None


def test_retry_after_is_honoured_within_a_day():
    assert seconds(1, 0.5, retry_after=300) == 300
    assert seconds(3, 0.5, retry_after=5) == 600
    assert retry_delay(1, retry_after=10 * 86400) == MAX_DELAY == dt.timedelta(days=1)
