"""Every metric the shipped dashboard and alert rules query is exported by some service's `/metrics`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import yaml

from common.launcher.services import SERVICE_PORTS
from tests.support.platform import ChatPlatform, Knowledge, chat

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
SAMPLE_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def queried_metrics() -> set[str]:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "nooble4.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    expressions += [rule["expr"] for group in groups for rule in group["rules"]]
    return {name for expr in expressions for name in re.findall(r"\bnooble4_[a-z0-9_]+", expr)}


def exported(metrics_text: str) -> set[str]:
    """Every sample name a `# TYPE` line announces (a labelled metric without samples yet is announced too)."""
    names = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", metrics_text, re.M):
        base = family.removesuffix("_total")
        names |= {family, base, *(base + suffix for suffix in SAMPLE_SUFFIXES.get(kind, ()))}
    return names


async def test_the_dashboard_and_alerts_query_only_metrics_the_services_export(chat_platform: ChatPlatform) -> None:
    available: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as http:
        for service in SERVICE_PORTS:
            available |= exported((await http.get(f"{chat_platform.url(service)}/metrics")).text)
    queried = queried_metrics()
    assert len(queried) >= 15
    assert queried - available == set()


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_a_chat_turn_and_an_ingestion_move_their_metrics(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as knowledge:
        collection = await knowledge.collection("metrics")
        assert (await knowledge.ingested(collection, "hours.txt", b"The desk opens at nine."))["status"] == "done"
    agent = await chat_platform.new_agent(key)
    async with chat(await chat_platform.new_session(key, agent), key) as client:
        assert (await client.turn("hello there"))[-1]["type"] == "message_end"
    async with httpx.AsyncClient(timeout=10) as http:
        execution = (await http.get(f"{chat_platform.url('agent_execution_service')}/metrics")).text
        ingestion = (await http.get(f"{chat_platform.url('ingestion_service')}/metrics")).text
    assert sample(execution, "nooble4_chat_first_token_seconds_count", tier="enterprise") >= 1
    assert sample(execution, "nooble4_llm_tokens_total", kind="completion") > 0
    assert sample(ingestion, "nooble4_ingested_chunks_total", tier="enterprise") >= 1
    assert sample(ingestion, "nooble4_documents_total", outcome="ready") >= 1
