"""Knowledge end to end: upload → extract → chunk → embed (callbacks) → index → search, generate and chat."""

from __future__ import annotations

import json
import uuid

from websockets.asyncio.client import connect

from tests.support.documents import every_type, pdf
from tests.support.platform import ChatPlatform, Knowledge, chat


async def test_every_file_type_ingests_and_its_content_is_findable(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    marker = f"zx{uuid.uuid4().hex[:6]}"
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        for filename, content in every_type(marker).items():
            task = await kb.ingested(collection, filename, content)
            assert (task["status"], task["percent"]) == ("done", 100), (filename, task)
            assert task["chunks_total"] == task["chunks_embedded"] > 0
        for filename in every_type(marker):
            kind = filename.rsplit(".", 1)[1]
            for mode in ("text", "hybrid"):
                response = await kb.search(f"{marker} {kind}", [collection], mode=mode, top_k=3)
                assert response.status_code == 200, response.text
                top = response.json()["results"][0]
                assert top["source"] == filename and f"{marker} {kind}" in top["content"], (mode, filename, top)
        pdf_hit = (await kb.search(f"{marker} pdf", [collection], mode="text")).json()["results"][0]
        assert pdf_hit["page"] == 2
        md_hit = (await kb.search(f"{marker} md", [collection], mode="text")).json()["results"][0]
        assert md_hit["heading"] == "Details"


async def test_vector_search_finds_meaning_not_just_words(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        await kb.ingested(collection, "pets.txt", b"Cats are small domesticated felines that purr and chase mice.")
        await kb.ingested(collection, "money.txt", b"The quarterly revenue report shows profit growth in Europe.")
        results = (await kb.search("a kitten animal", [collection], mode="vector")).json()["results"]
    assert results[0]["source"] == "pets.txt" and results[0]["score"] > results[1]["score"]


async def test_progress_streams_over_websocket_to_one_hundred(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection(chunk_size=40, chunk_overlap=5)
        text = " ".join(f"Sentence {i} talks about subject number {i}." for i in range(300)).encode()
        accepted = (await kb.upload(collection, "long.txt", text)).json()
        url = kb.ingestion.replace("http", "ws") + f"/ws/ingestion/{accepted['task_id']}?token={key}"
        events = []
        async with connect(url, open_timeout=10) as ws:
            async for raw in ws:
                events.append(json.loads(raw))
    assert events[-1]["status"] == "done" and events[-1]["percent"] == 100
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents) and len(events) >= 3
    assert events[-1]["chunks_total"] > 1 and events[-1]["chunks_embedded"] == events[-1]["chunks_total"]


async def test_same_content_twice_is_indexed_once_and_delete_removes_chunks(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        content = b"Unique words: quokkaberry marmalade recipe."
        first = await kb.upload(collection, "a.txt", content)
        await kb.task_end(first.json()["task_id"])
        again = await kb.upload(collection, "copy.txt", content)
        assert again.status_code == 202
        assert again.json()["duplicate"] is True and again.json()["task_id"] is None
        assert again.json()["document"]["id"] == first.json()["document"]["id"]
        hits = (await kb.search("quokkaberry", [collection], mode="text")).json()["results"]
        assert len(hits) == 1
        document_id = first.json()["document"]["id"]
        assert (await kb.http.delete(f"{kb.ingestion}/api/v1/documents/{document_id}")).status_code == 204
        assert (await kb.search("quokkaberry", [collection], mode="hybrid")).json()["results"] == []
        assert (await kb.http.get(f"{kb.ingestion}/api/v1/documents/{document_id}")).status_code == 404


async def test_corrupt_or_unsupported_files_fail_cleanly(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        broken = pdf(["Broken gnarwhal text."])[:60]  # a PDF cut short
        task = await kb.ingested(collection, "broken.pdf", broken)
        assert task["status"] == "failed" and "PDF" in task["error"]
        document = (await kb.http.get(f"{kb.ingestion}/api/v1/documents/{task['document_id']}")).json()
        assert document["status"] == "failed" and document["chunk_count"] == 0 and document["error"]
        assert (await kb.search("gnarwhal", [collection], mode="text")).json()["results"] == []
        unsupported = await kb.upload(collection, "tool.exe", b"MZ\x90\x00")
        assert unsupported.status_code == 422 and unsupported.json()["error"]["error_code"] == "unsupported_file_type"
        private = await kb.http.post(
            f"{kb.ingestion}/api/v1/documents/url",
            json={"collection_id": collection, "url": "http://127.0.0.1:1/x.txt"},
        )
        assert private.status_code == 422 and private.json()["error"]["error_code"] == "url_not_allowed"


async def test_tenant_b_never_retrieves_tenant_a_chunks(chat_platform: ChatPlatform) -> None:
    key_a, key_b = await chat_platform.new_tenant(), await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key_a) as kb_a, Knowledge(chat_platform, key_b) as kb_b:
        collection_a = await kb_a.collection()
        await kb_a.ingested(collection_a, "secret.txt", b"The launch code word is flamingoquartz.")
        collection_b = await kb_b.collection()
        await kb_b.ingested(collection_b, "public.txt", b"Nothing secret here at all.")
        for response in (
            await kb_b.search("flamingoquartz", [collection_a]),
            await kb_b.generate("What is the launch code word?", [collection_a]),
        ):
            assert response.status_code == 404
        own = await kb_b.search("flamingoquartz launch code", [collection_b], mode="hybrid")
        assert all("flamingoquartz" not in hit["content"] for hit in own.json()["results"])
        assert (await kb_b.http.get(f"{kb_b.ingestion}/api/v1/collections/{collection_a}")).status_code == 404
        assert (await kb_b.http.get(f"{kb_b.ingestion}/api/v1/collections")).json() != []
        # B cannot point an agent at A's collection, created or from a template
        agents = f"{chat_platform.url('agent_management_service')}/api/v1/agents"
        for url, body in (
            (agents, {"name": "x", "system_prompt": "y", "collection_ids": [collection_a]}),
            (f"{agents}/from-template", {"template_id": "knowledge-base-qa", "collection_ids": [collection_a]}),
        ):
            refused = await kb_b.http.post(url, json=body)
            assert refused.status_code == 422 and refused.json()["error"]["details"]["missing"] == [collection_a]
    # B's own knowledge agent never answers with A's content
    agent_b = await chat_platform.new_agent(key_b, collection_ids=[collection_b])
    session = await chat_platform.new_session(key_b, agent_b)
    async with chat(session, key_b) as client:
        await client.until("session_ready")
        events = await client.turn("What is the launch code word?")
    assert not any("flamingoquartz" in json.dumps(e) for e in events)


async def test_tier_caps_on_collections(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant("free")  # one collection
    async with Knowledge(chat_platform, key) as kb:
        await kb.collection("first")
        second = await kb.http.post(f"{kb.ingestion}/api/v1/collections", json={"name": "second"})
        assert second.status_code == 403 and second.json()["error"]["error_code"] == "collection_limit"


async def test_free_tier_documents_per_day_and_document_filter(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant("free")  # 10 documents per day
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        accepted = []
        for i in range(10):
            response = await kb.upload(collection, f"d{i}.txt", f"Document {i} mentions the word heliotrope.".encode())
            assert response.status_code == 202, response.text
            accepted.append(response.json())
        refused = await kb.upload(collection, "d10.txt", b"One more about heliotrope.")
        assert refused.status_code == 403 and refused.json()["error"]["error_code"] == "document_limit"
        for item in accepted:
            assert (await kb.task_end(item["task_id"]))["status"] == "done"
        chosen = accepted[3]["document"]["id"]
        everywhere = (await kb.search("heliotrope", [collection], mode="text", top_k=20)).json()["results"]
        assert len({hit["document_id"] for hit in everywhere}) == 10
        filtered = await kb.search("heliotrope", [collection], mode="hybrid", document_ids=[chosen])
        assert {hit["document_id"] for hit in filtered.json()["results"]} == {chosen}


async def test_documents_are_listed_in_pages_and_by_status(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        for i in range(3):
            await kb.ingested(collection, f"ok{i}.txt", f"Document number {i} about lanterns.".encode())
        await kb.ingested(collection, "empty.txt", b"   ")
        url = f"{kb.ingestion}/api/v1/documents"
        first = (await kb.http.get(url, params={"collection_id": collection, "limit": 2})).json()
        second = (await kb.http.get(url, params={"collection_id": collection, "limit": 2, "offset": 2})).json()
        assert first["total"] == second["total"] == 4 and len(first["items"]) == len(second["items"]) == 2
        assert {d["id"] for d in first["items"]}.isdisjoint({d["id"] for d in second["items"]})
        failed = (await kb.http.get(url, params={"status": "failed"})).json()
        assert [d["source"] for d in failed["items"]] == ["empty.txt"] and "empty_document" in failed["items"][0][
            "error"
        ]
        assert (await kb.http.get(url, params={"status": "stuck"})).status_code == 422


async def test_identifiers_are_findable_in_full_text(chat_platform: ChatPlatform) -> None:
    """Dotted names, snake_case and camelCase: a query naming a part, or the parts as words, finds them."""
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        await kb.ingested(collection, "loop.md", b"Use asyncio.loop.call_at(when, callback) to schedule a callback.")
        await kb.ingested(collection, "users.md", b"The getUserName helper returns the display label of an account.")
        await kb.ingested(collection, "other.md", b"Loops and calls are explained in the tutorial about names.")
        for query, expected in (
            ("loop.call_at", "loop.md"),
            ("call_at", "loop.md"),
            ("how do I use getUserName?", "users.md"),
            ("user name helper", "users.md"),
        ):
            hits = (await kb.search(query, [collection], mode="text", top_k=3)).json()["results"]
            assert hits and hits[0]["source"] == expected, (query, [h["source"] for h in hits])


async def test_search_language_and_options_refuse_what_does_not_exist(chat_platform: ChatPlatform) -> None:
    """A collection's text search language must be one PostgreSQL has; hostile names and unknown fusion methods
    are refused with a typed 422, never a 500; a Spanish collection is created and searchable."""
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        url = f"{kb.ingestion}/api/v1/collections"
        unknown = await kb.http.post(url, json={"name": "k", "text_search_config": "klingon"})
        assert unknown.status_code == 422
        assert unknown.json()["error"]["error_code"] == "unknown_text_search_config"
        assert "english" in unknown.json()["error"]["message"]
        for hostile in ("english'; DROP TABLE chunks; --", "pg_catalog.english", "x" * 64):
            refused = await kb.http.post(url, json={"name": "h", "text_search_config": hostile})
            assert refused.status_code == 422, hostile
        spanish = await kb.collection("es", text_search_config="spanish")
        assert (await kb.ingested(spanish, "horario.md", b"Abrimos las tiendas por las mananas."))["status"] == "done"
        hits = (await kb.search("cuando abren la tienda", [spanish], mode="text")).json()["results"]
        assert [hit["document_title"] for hit in hits] == ["horario.md"]
        bad_fusion = await kb.search("tienda", [spanish], fusion="median")
        assert bad_fusion.status_code == 422
        with_context = (await kb.search("tienda", [spanish], with_context=True)).json()["results"]
        assert with_context[0]["context"] == "Abrimos las tiendas por las mananas."
