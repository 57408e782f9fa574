"""The retry schedule: a pure function of the attempts made."""

import datetime as dt

from adesso.outbox.backoff import MAX_ATTEMPTS, MAX_DELAY, PACED_ATTEMPTS, retry_delay


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


def test_retry_after_is_honoured_not_the_schedule():
    """A provider's wait (Telegram's 429 retry_after) is the delay, up to a fifth (at
    least a second) later: 2 s is 2-3 s, not the schedule's 24-36 s (session 6)."""
    assert seconds(1, 0.0, retry_after=2) == 2
    assert seconds(1, 0.999999, retry_after=2) < 3
    assert 5 <= seconds(3, 0.5, retry_after=5) < 6
    assert seconds(1, 0.0, retry_after=300) == 300
    assert seconds(1, 0.999999, retry_after=300) < 360
    # Never sooner than a second, and within a day however long it is.
    assert 1 <= seconds(1, 0.0, retry_after=0) < 2
    assert retry_delay(1, retry_after=10 * 86400) == MAX_DELAY == dt.timedelta(days=1)


def test_a_provider_that_keeps_asking_to_wait_is_still_tried_for_a_day():
    """The first PACED_ATTEMPTS waits are the provider's alone; then the schedule's steps
    are the least, so "503, Retry-After: 1" forever ends as the schedule does."""
    waits = [seconds(n, 0.5, retry_after=1) for n in range(1, MAX_ATTEMPTS + PACED_ATTEMPTS)]
    assert waits[:PACED_ATTEMPTS] == [1.5] * PACED_ATTEMPTS
    assert waits[PACED_ATTEMPTS:] == [30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600]
    assert retry_delay(MAX_ATTEMPTS + PACED_ATTEMPTS, retry_after=1) is None
