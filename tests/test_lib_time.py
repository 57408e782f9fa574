"""Holidays, business hours and Erlang C: pure functions."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from adesso.lib.businesshours import Calendar, add_working_time, working_seconds_between
from adesso.lib.erlang import agents_needed, erlang_c, mean_wait, service_level
from adesso.lib.holidays import easter_sunday, italian_holidays

ROME = ZoneInfo("Europe/Rome")
NINE_TO_SIX = (dt.time(9), dt.time(18))
OFFICE = Calendar(week={d: (NINE_TO_SIX,) for d in range(5)}, holidays=italian_holidays)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ROME)


def test_easter_dates():
    assert easter_sunday(2024) == dt.date(2024, 3, 31)
    assert easter_sunday(2025) == dt.date(2025, 4, 20)
    assert easter_sunday(2026) == dt.date(2026, 4, 5)
    assert easter_sunday(2027) == dt.date(2027, 3, 28)


def test_italian_holidays():
    days = italian_holidays(2026)
    assert dt.date(2026, 4, 6) in days  # Pasquetta
    assert dt.date(2026, 6, 2) in days
    assert dt.date(2026, 10, 4) in days
    assert dt.date(2025, 10, 4) not in italian_holidays(2025)
    assert dt.date(2026, 12, 24) not in days
    assert len(days) == 13


def test_round_the_clock_is_plain_time():
    saturday_night = at(2026, 11, 28, 23, 30)
    assert add_working_time(saturday_night, 3600, None) == at(2026, 11, 29, 0, 30)


def test_business_hours_skip_nights_weekends_and_holidays():
    friday_evening = at(2026, 11, 27, 17, 30)
    assert add_working_time(friday_evening, 3600, OFFICE) == at(2026, 11, 30, 9, 30)
    # 7 December 2026 is a Monday, 8 December (Immacolata) a holiday.
    assert add_working_time(at(2026, 12, 7, 17, 0), 2 * 3600, OFFICE) == at(2026, 12, 9, 10, 0)
    # Before opening, the clock starts at opening.
    assert add_working_time(at(2026, 11, 30, 6, 0), 60, OFFICE) == at(2026, 11, 30, 9, 1)


def test_working_seconds_between_is_the_inverse():
    start = at(2026, 11, 27, 17, 30)
    for seconds in (60, 1800, 3600, 9 * 3600, 40 * 3600):
        end = add_working_time(start, seconds, OFFICE)
        assert working_seconds_between(start, end, OFFICE) == pytest.approx(seconds)


def test_daylight_saving_change_in_rome():
    # 25 October 2026: clocks go back at 03:00; 24/7 time is physical time.
    start = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert add_working_time(start, 3600, None) - start == dt.timedelta(hours=1)


def test_erlang_c_textbook_case():
    # 100 calls/h, 180 s each = 5 erlangs; 7 agents. By the closed formula:
    # C = (5^7/7! * 7/2) / (sum_{k<7} 5^k/k! + 5^7/7! * 7/2) = 54.25 / 167.37.
    assert erlang_c(7, 5.0) == pytest.approx(0.32415, abs=1e-4)
    assert service_level(7, 100, 180, 20) == pytest.approx(1 - 0.32415 * 0.80074, abs=1e-4)
    assert mean_wait(7, 100, 180) == pytest.approx(0.32415 * 90, abs=0.01)
    assert erlang_c(5, 5.0) == 1.0


def test_agents_needed_meets_the_target():
    n = agents_needed(100, 180, 20, 0.8)
    assert service_level(n, 100, 180, 20) >= 0.8
    assert service_level(n - 1, 100, 180, 20) < 0.8
    assert agents_needed(0, 180, 20, 0.8) == 0


def test_sla_clock_pauses_and_resumes():
    from adesso.sla.clock import Clock, current_stage, next_check_at

    start = at(2026, 11, 28, 23, 30)  # a Saturday night
    clock = Clock(start, 3600)
    assert clock.due_at(None) == at(2026, 11, 29, 0, 30)
    assert next_check_at(clock, 0, None) == at(2026, 11, 29, 0, 0)
    assert current_stage(clock, at(2026, 11, 29, 0, 20), None) == 2
    # Pending for two hours after 20 minutes: 40 minutes left on resume.
    paused = clock.paused(at(2026, 11, 28, 23, 50), None)
    resumed = paused.resumed(at(2026, 11, 29, 1, 50))
    assert resumed.due_at(None) == at(2026, 11, 29, 2, 30)
    assert next_check_at(resumed, 4, None) is None
    # On office hours the same wait falls due on Monday.
    assert Clock(start, 3600).due_at(OFFICE) == at(2026, 11, 30, 10, 0)
