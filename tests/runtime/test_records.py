from datetime import UTC, datetime

from bria_fleet.runtime.records import (
    OPERATION_RECORD,
    FinishedRecord,
    OutboundMessage,
    WatchRecord,
)


def watch(job_id: str) -> WatchRecord:
    return WatchRecord(
        kind="captions",
        target_id="201",
        job_id=job_id,
        request={"job_id": job_id, "op": "regenerate_all_captions", "dataset_id": "201"},
        deadline_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def test_two_jobs_watching_one_dataset_have_watches_of_their_own() -> None:
    assert watch("a").key != watch("b").key
    assert watch("a").key == watch("a").key


def test_a_watch_and_a_finished_job_read_back_as_what_they_were() -> None:
    finished = FinishedRecord(
        job_id="a",
        messages=[OutboundMessage(topic="t", key="a", value={"type": "x.completed"})],
    )

    for record in (watch("a"), finished):
        assert OPERATION_RECORD.validate_json(record.model_dump_json()) == record


def test_finished_and_watch_keys_never_collide() -> None:
    finished = FinishedRecord(job_id="a", messages=[])

    assert finished.key != watch("a").key
    assert finished.key == "job:a"
