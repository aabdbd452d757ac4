"""Oldest job age: the first job received and not finished, 0 when there is none."""

import time

from bria_fleet import metrics
from bria_fleet.runtime.backlog import Backlog


def oldest() -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "bria_fleet_oldest_job_age_seconds", {"domain": "backlogtest"}
    )


def test_the_age_is_that_of_the_oldest_unfinished_job() -> None:
    backlog = Backlog("backlogtest")
    assert oldest() == 0.0
    first = backlog.received()
    time.sleep(0.05)
    second = backlog.received()
    age_with_both = oldest()
    assert age_with_both is not None
    assert age_with_both >= 0.05

    backlog.finished(first)
    age_of_second = oldest()
    assert age_of_second is not None
    assert age_of_second < age_with_both

    backlog.finished(second)
    assert oldest() == 0.0


def test_finishing_in_any_order_leaves_the_oldest_still_running() -> None:
    backlog = Backlog("backlogtest")
    first = backlog.received()
    time.sleep(0.02)
    second = backlog.received()
    backlog.finished(second)
    age = oldest()
    assert age is not None
    assert age >= 0.02
    backlog.finished(first)
    assert oldest() == 0.0
