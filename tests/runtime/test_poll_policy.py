import pytest

from bria_fleet.runtime.worker_settings import PollPolicy, WorkerSettings


def test_delay_grows_from_the_first_delay_to_the_cap() -> None:
    policy = PollPolicy(first_delay=1.0, growth=2.0, cap=5.0, jitter=0.0, deadline=60.0)

    delays = [policy.delay(polls, random_fraction=0.0) for polls in range(5)]

    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_only_shortens_the_delay_by_at_most_its_fraction() -> None:
    policy = PollPolicy(first_delay=10.0, growth=1.0, cap=10.0, jitter=0.3, deadline=60.0)

    assert policy.delay(0, random_fraction=0.0) == pytest.approx(10.0)
    assert policy.delay(0, random_fraction=0.999) == pytest.approx(7.003)


def test_huge_poll_counts_do_not_overflow() -> None:
    policy = PollPolicy(first_delay=1.0, growth=10.0, cap=60.0, jitter=0.0, deadline=60.0)

    assert policy.delay(10_000, random_fraction=0.0) == 60.0


def test_training_polls_start_slower_than_generation_polls() -> None:
    settings = WorkerSettings()

    assert (
        settings.poll_policy("training").first_delay
        > settings.poll_policy("generation").first_delay
    )
    assert settings.poll_policy("unknown-kind") == settings.poll_policy("generation")


def test_poll_policies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "WORKER_POLL_POLICIES",
        '{"training": {"first_delay": 1, "cap": 2, "deadline": 60}}',
    )

    settings = WorkerSettings()

    assert settings.poll_policy("training").cap == 2.0
    assert settings.poll_policy("generation") == WorkerSettings().poll_policies["generation"]


def test_polls_within_counts_the_polls_the_schedule_makes_in_that_time() -> None:
    policy = PollPolicy(first_delay=1.0, growth=2.0, cap=5.0, jitter=0.0, deadline=600.0)
    # Polls at 1, 3, 7, 12, 17, 22, ... seconds.

    counts = [policy.polls_within(t) for t in (0.5, 1.0, 6.9, 7.0, 17.0, 100.0)]

    assert counts == [0, 1, 2, 3, 5, 21]
