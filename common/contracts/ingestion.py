"""The ingestion service's actions: ingest a queued document (sent by the service to its own workers), and
which collection ids a tenant does not have (asked by the management service before an agent names them)."""

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contract import call, send


class IngestRequest(BaseModel):
    """`ingestion.document.ingest`."""

    model_config = ConfigDict(extra="forbid")

    document_id: str
    task_id: str


class VerifyCollections(BaseModel):
    """`ingestion.collection.verify`: which of these ids are not the tenant's collections."""

    model_config = ConfigDict(extra="forbid")

    collection_ids: list[str] = Field(max_length=100)


class MissingCollections(BaseModel):
    missing: list[str]


INGEST_DOCUMENT = send("ingestion.document.ingest", IngestRequest)
VERIFY_COLLECTIONS = call("ingestion.collection.verify", VerifyCollections, MissingCollections)
