from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from common.errors import ActionTimeoutError, DependencyError, NoobleError, NotFoundError, as_nooble_error
from common.messaging.codec import decode_action, encode, salvage_envelope
from common.models import DomainAction, DomainActionResponse, ErrorDetail


def action(**fields) -> DomainAction:
    return DomainAction(**{"action_type": "query.search.run", "tenant_id": "t1", "origin_service": "test", **fields})


def test_action_defaults_are_unique_ids_and_utc_timestamps() -> None:
    first, second = action(), action()
    assert first.action_id != second.action_id and first.trace_id != second.trace_id
    assert first.timestamp.tzinfo is not None
    assert first.domain == "query"


@pytest.mark.parametrize("bad", ["search", "Query.Search.Run", "query..run", "a.b.c.d", "query.search."])
def test_action_type_must_be_domain_entity_verb(bad: str) -> None:
    with pytest.raises(ValidationError):
        action(action_type=bad)


@pytest.mark.parametrize("good", ["query.search", "embedding.generate", "conversation.message.save"])
def test_catalogue_action_types_are_valid(good: str) -> None:
    assert action(action_type=good).domain == good.split(".")[0]


def test_unknown_envelope_fields_and_naive_deadlines_are_refused() -> None:
    with pytest.raises(ValidationError):
        action(surprise=1)
    with pytest.raises(ValidationError):
        action(deadline=datetime(2030, 1, 1))  # naive: ambiguous across hosts


def test_deadline() -> None:
    assert action(deadline=datetime.now(UTC) - timedelta(seconds=1)).is_expired()
    assert not action(deadline=datetime.now(UTC) + timedelta(seconds=5)).is_expired()
    assert not action().is_expired()


def test_response_success_iff_no_error() -> None:
    error = ErrorDetail(error_type="not_found", error_code="x", message="m")
    with pytest.raises(ValidationError):
        DomainActionResponse(action_id="a", correlation_id="c", trace_id="t", success=True, error=error)
    with pytest.raises(ValidationError):
        DomainActionResponse(action_id="a", correlation_id="c", trace_id="t", success=False)
    assert DomainActionResponse.ok(action(), {"x": 1}).success


def test_codec_round_trip_and_limits() -> None:
    original = action(data={"q": "hola"})
    assert decode_action(encode(original, 10_000), 10_000) == original
    with pytest.raises(NoobleError, match="exceeds"):
        encode(action(data={"q": "x" * 2_000}), 1_000)
    for raw, code in [
        (None, "malformed_message"),
        ("{", "malformed_message"),
        ("[]", "malformed_message"),
        ("x" * 2_000, "payload_too_large"),
    ]:
        with pytest.raises(NoobleError) as raised:
            decode_action(raw, 1_000)
        assert raised.value.code == code


def test_salvage_envelope_keeps_only_string_reply_coordinates() -> None:
    assert salvage_envelope('{"action_id": "a", "callback_queue_name": 5, "x": "y"}') == {"action_id": "a"}
    assert salvage_envelope("not json") == {}
    assert salvage_envelope("[1]") == {}


def test_error_tree_round_trips_through_error_detail() -> None:
    error = NotFoundError("no agent", code="agent_not_found", details={"agent_id": "a"})
    detail = error.to_detail()
    assert (detail.error_type, detail.error_code) == ("not_found", "agent_not_found")
    again = NoobleError.from_detail(detail)
    assert isinstance(again, NotFoundError) and again.http_status == 404 and again.details == {"agent_id": "a"}
    assert ActionTimeoutError("t").http_status == 504
    assert DependencyError("down").retryable and not DependencyError("bad", retryable=False).retryable


def test_errors_are_classified_once_only_transient_ones_are_retried() -> None:
    import asyncpg
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import DBAPIError

    bug = as_nooble_error(KeyError("k"))
    assert bug.error_type == "internal_error" and not bug.retryable  # no retry fixes a bug
    assert not as_nooble_error(RecursionError()).retryable
    assert as_nooble_error(NotFoundError("x")).retryable is False
    for transient in (ConnectionError("reset"), TimeoutError(), RedisConnectionError("down")):
        assert as_nooble_error(transient).retryable, transient
    nul = DBAPIError("INSERT", {}, asyncpg.exceptions.CharacterNotInRepertoireError("invalid byte sequence 0x00"))
    refused = as_nooble_error(nul)
    assert refused.error_type == "validation_error" and refused.code == "data_refused" and not refused.retryable
    assert "NUL byte" in refused.message and "INSERT" not in refused.message and "asyncpg" not in refused.message
    assert refused.__cause__ is nul  # kept for the logs, not for the client
    assert bug.message == "internal error (KeyError); it has been logged"  # not the exception's own text
    deadlock = DBAPIError("UPDATE", {}, asyncpg.exceptions.DeadlockDetectedError("deadlock"))
    assert as_nooble_error(deadlock).retryable
    duplicate = as_nooble_error(DBAPIError("INSERT", {}, asyncpg.exceptions.UniqueViolationError("dup")))
    assert duplicate.error_type == "conflict" and not duplicate.retryable


def test_lexical_terms_keep_identifiers_whole_and_split() -> None:
    from common.lexical import lexical_text

    asyncio_call = lexical_text("how does asyncio.loop.call_at work?")
    assert asyncio_call.prose == "how does asyncio loop call at work?"
    assert asyncio_call.identifiers.split() == ["asyncioloopcallat", "loopcallat", "callat"]
    names = lexical_text("getUserName and snake_case_name")
    assert names.prose == "get User Name and snake case name"
    assert names.identifiers.split() == ["getusername", "snakecasename", "casename"]
    assert lexical_text("what are the opening hours") == ("what are the opening hours", "")
    assert lexical_text(None, "", "a") == ("a", "")
    # a 20,000-segment dotted "identifier" (minified code) yields only its suffixes that can be terms
    minified = lexical_text(".".join(["ab"] * 20_000)).identifiers.split()
    assert minified == ["ab" * n for n in range(50, 1, -1)]
