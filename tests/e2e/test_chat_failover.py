"""Chat turns always end, exactly once on the client, when the processes behind them die."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.platform import ChatPlatform, chat


def seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "rolling_update"])
async def test_a_stopped_orchestrator_replica_does_not_strand_its_turn(
    chat_platform: ChatPlatform, stop: signal.Signals
) -> None:
    """The replica that started the turn stops mid-stream: SIGKILLed (no drain, no goodbye), or SIGTERMed as in
    a rolling update (it closes its sockets with 1012 "service restart" and exits 0). A survivor adopts its
    callbacks and the client, reconnected there with `last_seq`, gets the rest: no gap, no repeated text, the
    turn ends."""
    doomed, doomed_url = chat_platform.start_replica()
    try:
        key = await chat_platform.new_tenant()
        agent = await chat_platform.new_agent(key)
        session = await chat_platform.new_session(key, agent, base=doomed_url)
        async with chat(session, key, base_ws=doomed_url.replace("http", "ws")) as first:
            await first.until("session_ready")
            await first.send(type="message", content="tell me a long story")
            seen = await first.until("token")
            doomed.send_signal(stop)
            if stop == signal.SIGTERM:  # the events sent before the close, then the close itself
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        seen.append(await first.next(30))
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012, closed.value
            exit_code = await asyncio.to_thread(doomed.wait, 30)
            assert exit_code == (0 if stop == signal.SIGTERM else -signal.SIGKILL)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    last_seq = seen[-1]["seq"]
    survivor_ws = chat_platform.orchestrator.replace("http", "ws")
    async with chat(session, key, base_ws=survivor_ws, last_seq=last_seq) as second:
        rest = await second.until("message_end", "error", timeout=30)
        assert rest[-1]["type"] == "message_end", rest[-1]
        assert seqs(rest) == list(range(last_seq + 1, last_seq + 1 + len(rest)))
        events = [*seen, *rest]
        restart = max((i for i, e in enumerate(events) if e["type"] == "turn_restart"), default=-1)
        words = "".join(e["delta"] for e in events[restart + 1 :] if e["type"] == "token")
        assert words == rest[-1]["content"] and len(words.split()) == 400
        after = await second.turn("and now?")  # the session is usable again
        assert after[-1]["type"] == "message_end"


async def test_a_turn_whose_execution_worker_is_killed_is_rerun_and_the_text_stays_true(
    chat_platform: ChatPlatform,
) -> None:
    """SIGKILL the execution service mid-answer: the launcher restarts it, the turn is reclaimed and generated
    again from the start after a `turn_restart`, so the text streamed after it equals `message_end.content`."""
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    status = chat_platform.home / "n4" / "status.json"
    async with chat(session, key) as client:
        await client.until("session_ready")
        await client.send(type="message", content="tell me a long story")
        seen = await client.until("token")
        pid = json.loads(status.read_text())["children"]["agent_execution_service"]["pid"]
        os.kill(pid, signal.SIGKILL)
        rest = await client.until("message_end", "error", timeout=30)
    events = [*seen, *rest]
    assert events[-1]["type"] == "message_end", events[-1]
    assert any(e["type"] == "turn_restart" for e in events)
    restart = max(i for i, e in enumerate(events) if e["type"] == "turn_restart")
    words = "".join(e["delta"] for e in events[restart + 1 :] if e["type"] == "token")
    assert words == events[-1]["content"] and len(words.split()) == 400
    assert seqs(events[1:]) == list(range(events[1]["seq"], events[1]["seq"] + len(events) - 1))
