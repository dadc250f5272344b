"""Every input ends in a clear state, through the platform's own REST API: hostile documents end `ready` or
`failed` with a reason, ordinary documents beside them are not held up, and values no store can hold are
422s naming the field — never a 500, never a hang."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx

from tests.support.documents import pdf
from tests.support.hostile_documents import CORPUS, docx_zip_bomb
from tests.support.platform import ChatPlatform, Knowledge, auth


async def test_hostile_documents_end_with_a_reason_and_do_not_hold_up_others(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        corpus = [*CORPUS, ("bomb.docx", docx_zip_bomb(), "zip_bomb")]
        uploads = {}
        for name, content, expected in corpus:
            response = await kb.upload(collection, name, content)
            assert response.status_code == 202, (name, response.text)
            uploads[name] = (response.json()["task_id"], expected)
        started = time.monotonic()
        ordinary = await kb.ingested(collection, "ordinary.txt", f"An ordinary note {uuid.uuid4().hex}.".encode())
        assert ordinary["status"] == "done" and time.monotonic() - started < 30
        for name, (task_id, expected) in uploads.items():
            task = await kb.task_end(task_id, timeout=90)
            if expected == "ready":
                assert task["status"] == "done", (name, task)
            else:
                assert task["status"] == "failed" and expected in (task["error"] or ""), (name, task)
            document = (await kb.http.get(f"{kb.ingestion}/api/v1/documents/{task['document_id']}")).json()
            assert document["status"] in ("ready", "failed"), (name, document)
        hits = (await kb.search("Attention is all you need", [collection], mode="text")).json()["results"]
        assert hits and "\x00" not in hits[0]["content"]  # the PDF whose text held NUL bytes is searchable


async def test_ingestion_stays_responsive_while_a_large_pdf_is_read(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    big = pdf([f"Page {n}: " + "lorem ipsum dolor sit amet " * 40 for n in range(300)])
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        accepted = await kb.upload(collection, "report.pdf", big)
        assert accepted.status_code == 202
        slowest = 0.0
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(20):
                started = time.monotonic()
                assert (await http.get(f"{kb.ingestion}/ready")).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
                await asyncio.sleep(0.05)
        task = await kb.task_end(accepted.json()["task_id"], timeout=120)
    assert task["status"] == "done" and task["chunks_total"] > 100
    assert slowest < 1.0


async def test_unrepresentable_values_are_422_with_the_field(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    headers = auth(key)
    management = chat_platform.url("agent_management_service")
    cases = [
        ("GET", f"{management}/api/v1/agents/%00", None, "path"),
        ("GET", f"{chat_platform.url('ingestion_service')}/api/v1/collections/%00", None, "path"),
        ("GET", f"{chat_platform.url('ingestion_service')}/api/v1/documents/a%00b", None, "path"),
        ("GET", f"{chat_platform.url('ingestion_service')}/api/v1/tasks/%00", None, "path"),
        ("GET", f"{chat_platform.url('conversation_service')}/api/v1/conversations/%00", None, "path"),
        ("GET", f"{management}/api/v1/agents?offset=9223372036854775808", None, "query"),
        ("POST", f"{management}/api/v1/agents", {"name": "a\u0000b", "system_prompt": "x"}, "body"),
        (
            "POST",
            f"{management}/api/v1/agents",
            {"name": "a", "system_prompt": "x", "collection_ids": ["\u0000"]},
            "body",
        ),
        ("POST", f"{chat_platform.orchestrator}/api/v1/chat/sessions", {"agent_id": "\u0000"}, "body"),
        ("POST", f"{chat_platform.url('embedding_service')}/api/v1/embeddings", {"input": "\ud800"}, "body"),
    ]
    async with httpx.AsyncClient(timeout=15, headers=headers) as http:
        for method, url, body, where in cases:
            started = time.monotonic()
            content = json.dumps(body).encode() if body is not None else None  # ASCII: \ud800 stays escaped
            response = await http.request(method, url, content=content, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, (url, body, response.status_code, response.text)
            assert time.monotonic() - started < 5
            errors = response.json()["error"]["details"]["errors"]
            assert errors and errors[0]["loc"][0] == where, errors


async def test_patch_with_null_is_refused_and_stores_nothing(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent_id = await chat_platform.new_agent(key)
    url = f"{chat_platform.url('agent_management_service')}/api/v1/agents"
    async with httpx.AsyncClient(timeout=15, headers=auth(key)) as http:
        for field in ("tools", "memory", "model", "collection_ids", "name"):
            response = await http.patch(f"{url}/{agent_id}", json={field: None})
            assert response.status_code == 422, (field, response.text)
            assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", field]
        listed = await http.get(url)
        assert listed.status_code == 200 and listed.json()["items"][0]["tools"] is not None
        assert (
            await http.post(f"{chat_platform.orchestrator}/api/v1/chat/sessions", json={"agent_id": agent_id})
        ).status_code == 201


LEAKS = ("insert ", "select ", "update ", "asyncpg", "sqlalchemy", "psycopg", "traceback", 'file "', "[sql:", "$1")


async def test_error_bodies_never_carry_sql_driver_text_or_stack_frames(chat_platform: ChatPlatform) -> None:
    """NUL bytes, oversized values and bad encodings through fields of every kind, multipart file names
    included: each is a typed 4xx whose body says what was wrong, never the store's statement or driver."""
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    ingestion = chat_platform.url("ingestion_service")
    management = chat_platform.url("agent_management_service")
    conversation = chat_platform.url("conversation_service")
    async with Knowledge(chat_platform, key) as knowledge:
        collection = await knowledge.collection("hostile")
    big = "x" * 300_000
    async with httpx.AsyncClient(timeout=15, headers=auth(key)) as http:

        def raw_upload(filename: bytes) -> bytes:  # sent as bytes: httpx would escape what a browser may not
            return (
                b'--b\r\nContent-Disposition: form-data; name="collection_id"\r\n\r\n'
                + collection.encode()
                + b'\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="'
                + filename
                + b'"\r\nContent-Type: text/plain\r\n\r\nsome text\r\n--b--\r\n'
            )

        multipart = {"Content-Type": "multipart/form-data; boundary=b"}
        accepted_or_refused = []  # a name the store can keep is accepted as it is; one it cannot is a 4xx
        for name in (b"bad\x00name.txt", b"\xff\xfe.txt", b"x" * 5000 + b".txt", b"\xc3(.txt"):
            async with httpx.AsyncClient(timeout=15, headers=auth(key)) as one:  # a refused body closes its connection
                url = f"{ingestion}/api/v1/documents"
                accepted_or_refused.append(await one.post(url, content=raw_upload(name), headers=multipart))
        responses = [
            await http.post(
                f"{ingestion}/api/v1/documents", data={"collection_id": "a\x00b"}, files={"file": ("a.txt", b"x")}
            ),
            await http.post(
                f"{ingestion}/api/v1/documents/text", json={"collection_id": collection, "title": "t\x00", "text": "x"}
            ),
            await http.post(
                f"{ingestion}/api/v1/documents/text", json={"collection_id": collection, "title": big, "text": "x"}
            ),
            await http.post(f"{ingestion}/api/v1/collections", json={"name": "n", "chunk_size": 10**30}),
            await http.get(f"{ingestion}/api/v1/documents/x/chunks", params={"offset": 10**20}),
            await http.post(
                f"{management}/api/v1/end-user-tokens",
                json={"agent_id": agent, "end_user_id": "u\x00", "expires_in_s": 60},
            ),
            await http.post(f"{management}/api/v1/end-user-tokens", json={"agent_id": "\x00", "end_user_id": "u"}),
            await http.post(f"{management}/api/v1/end-user-tokens", json={"agent_id": agent, "end_user_id": big}),
            await http.put(
                f"{management}/api/v1/tenants/me/allowed-origins", json={"allowed_origins": ["https://a\x00b"]}
            ),
            await http.post(f"{management}/api/v1/tenants/me/keys", json={"name": "k\x00", "expires_in_days": 10**40}),
            await http.get(f"{conversation}/api/v1/conversations", params={"end_user_id": "a\x00b"}),
            await http.get(f"{conversation}/api/v1/conversations/usage/daily", params={"days": 10**12}),
            await http.post(
                f"{chat_platform.orchestrator}/api/v1/chat/sessions",
                json={"agent_id": agent, "end_user_id": "\x00", "conversation_id": "c"},
            ),
            await http.post(  # no collection_id field: the form says which field is missing
                f"{ingestion}/api/v1/documents",
                content=raw_upload(b"a.txt").split(b"--b\r\n", 2)[2].join([b"--b\r\n", b""]),
                headers=multipart,
            ),
        ]
    nul = accepted_or_refused[0]  # a NUL byte: said in words, with the field, nothing stored
    assert nul.status_code == 422 and nul.json()["error"]["error_code"] == "invalid_file_name"
    for response in accepted_or_refused:
        assert response.status_code in (202, 400, 422), (response.status_code, response.text[:300])
        body = response.text.lower()
        assert not any(leak in body for leak in LEAKS), (response.request.url, response.text[:500])
    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text[:300])
        body = response.text.lower()
        assert not any(leak in body for leak in LEAKS), (response.request.url, response.text[:500])
        assert response.json()["error"]["message"]
