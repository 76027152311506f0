"""StreamRecord: construction, the JSON codec and its validation, the status table."""

from __future__ import annotations

import contextlib
import json
import string
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamrecover.core.errors import StorageError, UsageError
from streamrecover.storage.errors import StatusConflictError
from streamrecover.storage.owner import Owner
from streamrecover.storage.record import (
    RECORD_FORMAT,
    STATUSES,
    TRANSITIONS,
    RecordChanges,
    RecordedError,
    StreamRecord,
    check_transition,
    new_record,
    validate_changes,
)


def full_record() -> StreamRecord:
    record = new_record(provider="openai", model="gpt-test", request={"messages": []},
                        clock=lambda: 1_700_000_000.5)
    return replace(record, chunks=("a", "b🙂"), status="interrupted",
                   error=RecordedError(type="TransportError", message="reset", recoverable=True),
                   attempts=2, resumes=1, last_event_id="9", sequence_number=9,
                   response_id="resp_9", usage={"output_tokens": 5},
                   owner=Owner(host="h/m/pidns:1", pid=7, boot_id="b", started="99"),
                   lease=10.0, epoch=2,
                   storage_error=RecordedError(type="StorageError", message="full",
                                               recoverable=True))


def test_new_record_makes_an_unguessable_url_safe_id_and_stamps_both_times() -> None:
    ids = {new_record(provider="p", model="m", request={}).id for _ in range(200)}
    assert len(ids) == 200
    for record_id in ids:
        assert len(record_id) >= 22
        assert set(record_id) <= set(string.ascii_letters + string.digits + "-_")
    record = new_record(provider="p", model="m", request={}, clock=lambda: 42.0)
    assert (record.created_at, record.updated_at, record.status) == (42.0, 42.0, "active")


def test_new_record_copies_the_request() -> None:
    request: dict[str, Any] = {"messages": [{"role": "user", "content": "hi"}]}
    record = new_record(provider="p", model="m", request=request)
    request["messages"].append("later")
    assert record.request == {"messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("request_body", [{"x": object()}, {"x": float("nan")}, {"x": {1, 2}}])
def test_new_record_refuses_a_request_that_is_not_json(request_body: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        new_record(provider="p", model="m", request=request_body)


@pytest.mark.parametrize("record_id", ["", "a/b", "a b", "x" * 129, "é"])
def test_invalid_ids_are_refused(record_id: str) -> None:
    with pytest.raises(UsageError):
        new_record(provider="p", model="m", request={}, record_id=record_id)


def test_json_round_trip() -> None:
    record = full_record()
    document = record.to_json()
    assert json.loads(document)["format"] == RECORD_FORMAT
    assert StreamRecord.from_json(document) == record
    assert StreamRecord.from_json(document.encode()) == record
    assert StreamRecord.from_dict(record.to_dict()) == record


def test_text_and_summary() -> None:
    record = full_record()
    assert record.text == "ab🙂"
    summary = record.summary()
    assert (summary.id, summary.status, summary.text_length) == (record.id, "interrupted", 3)
    assert record.summary(10).text_length == 10


OWNERSHIP_FIELDS = ("owner", "lease", "epoch", "storage_error")


def test_a_record_from_before_ownership_reads_with_no_owner_and_epoch_0() -> None:
    document = full_record().to_dict()
    for name in OWNERSHIP_FIELDS:
        del document[name]
    record = StreamRecord.from_dict(document)
    assert (record.owner, record.lease, record.epoch, record.storage_error) == (
        None, None, 0, None)


def test_new_record_replaces_lone_surrogates_in_the_request() -> None:
    record = new_record(provider="p", model="m",
                        request={"messages": [{"content": "half \ud83d, pair \ud83d\ude00"}]})
    assert record.request["messages"][0]["content"] == "half \ufffd, pair \U0001f600"


def corrupt_documents() -> list[object]:
    good = full_record().to_dict()
    documents: list[object] = [None, [], "text", 3]
    for name in good:
        if name in OWNERSHIP_FIELDS or name == "providers":
            continue  # may be absent: see test_a_record_from_before_ownership_reads
        without = dict(good)
        del without[name]
        documents.append(without)
    for name, bad in [("id", 5), ("id", "bad id"), ("status", "done"), ("chunks", "abc"),
                      ("chunks", ["a", 1]), ("attempts", -1), ("attempts", True),
                      ("attempts", 1.5), ("created_at", "yesterday"), ("created_at", None),
                      ("usage", {"input_tokens": "3"}), ("usage", []), ("error", "boom"),
                      ("error", {"type": "X"}), ("error", {"type": "X", "message": "m",
                                                           "recoverable": "yes"}),
                      ("request", []), ("sequence_number", "9"), ("last_event_id", 9),
                      ("owner", "me"), ("owner", {"host": "h", "pid": "1", "boot_id": "",
                                                  "started": ""}),
                      ("owner", {"host": "h", "pid": 1}), ("lease", 0), ("lease", "10"),
                      ("lease", True), ("lease", -3.0), ("epoch", -1), ("epoch", 1.5),
                      ("epoch", None), ("storage_error", "disk full")]:
        documents.append({**good, name: bad})
    documents.append({**good, "extra": 1})
    return documents


@pytest.mark.parametrize("document", corrupt_documents())
def test_a_corrupt_or_foreign_value_is_a_storage_error(document: object) -> None:
    with pytest.raises(StorageError):
        StreamRecord.from_dict(document)


@pytest.mark.parametrize("document", ["", "{", "[]", '{"id": "x"}', "\xff",
                                      json.dumps({"format": "other/1"}), b"\xff\xfe"])
def test_from_json_refuses_foreign_documents(document: str | bytes) -> None:
    with pytest.raises(StorageError):
        StreamRecord.from_json(document)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(sorted(full_record().to_dict())), json_values))
def test_mutated_documents_raise_only_storage_error(changes: dict[str, Any]) -> None:
    document = {**full_record().to_dict(), **changes}
    with contextlib.suppress(StorageError):
        StreamRecord.from_dict(document)


def test_validate_changes_covers_exactly_the_typed_fields() -> None:
    every = {"status": "failed", "error": None, "attempts": 1, "resumes": 0,
             "last_event_id": None, "sequence_number": 3, "response_id": "r",
             "usage": {"input_tokens": 1}, "owner": None, "lease": 5.0,
             "storage_error": None, "providers": ()}
    assert set(every) == set(RecordChanges.__annotations__)
    assert validate_changes(every) == every
    with pytest.raises(UsageError, match="updated_at"):
        validate_changes({"updated_at": 1.0})


def test_transition_table_is_total_and_final_states_are_final() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for status, allowed in TRANSITIONS.items():
        assert status in allowed
        assert allowed <= set(STATUSES)
    assert TRANSITIONS["completed"] == {"completed"}
    assert TRANSITIONS["cancelled"] == {"cancelled"}
    check_transition("r", "interrupted", "active", frozenset({"interrupted"}))
    with pytest.raises(StatusConflictError, match="expected"):
        check_transition("r", "active", "active", frozenset({"interrupted"}))
    with pytest.raises(StatusConflictError, match="allowed"):
        check_transition("r", "completed", "active", None)
    with pytest.raises(StorageError, match="unknown stored status"):
        check_transition("r", "weird", "active", None)


def test_recorded_error_from_exception_redacts_the_message() -> None:
    exc = RuntimeError("GET https://h.test/v1?key=AIzaSyA1234567890abcdefghijk failed; "
                       "Authorization: Bearer sk-ant-api03-abcdefghijklmnop")
    error = RecordedError.from_exception(exc, recoverable=True)
    assert error.type == "RuntimeError"
    assert error.recoverable is True
    assert "AIza" not in error.message
    assert "sk-ant" not in error.message
    assert "https://h.test/v1?key=" in error.message
    long = RecordedError(type="X", message="m" * 10_000, recoverable=False)
    assert len(long.message) == 2000


def test_generated_ids_never_start_with_a_dash() -> None:
    # A command line would read "-abc" as an option; 1 id in 64 would otherwise.
    from streamrecover.storage.record import new_record

    ids = [new_record(provider="openai", model="m", request={}).id for _ in range(3000)]
    assert not any(record_id.startswith("-") for record_id in ids)
    assert len(set(ids)) == len(ids)
