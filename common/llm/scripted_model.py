"""A deterministic LangChain chat model for tests, benchmarks and demos (`NOOBLE4_LOCAL_CHAT_MODEL=scripted`).

It really goes through LangChain (tool binding, streaming, usage metadata); its answers follow rules:
- after a tool result: "The <tool> tool says: <result>";
- a message naming a bound tool followed by a JSON object (`crm__lookup {"id": "7"}`): calls it with that;
- a message with an arithmetic expression, when `calculator` is bound: calls it;
- a message that mentions the time, when `current_time` is bound: calls it;
- any other message, when `knowledge` is bound: searches the knowledge base once;
- a prompt with numbered sources ("[1] title: text"): the first sentence of source 1, cited as [1];
- "think forever": never answers (for timeouts); "think forever out loud": streams its answer, then never ends;
- "long story": 400 words, one token each (for cancellation);
- otherwise it echoes the message and recalls the conversation's first user message.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from common.tokens import count_tokens

LONG_STORY_TOKEN_DELAY_S = 0.01  # a long story takes ~4 s, so it can be cancelled midway
SOURCE_ONE = re.compile(r"^\[1\] [^:\n]*: (.+)$", re.MULTILINE)
ARITHMETIC = re.compile(r"[(\d][\d\s.+\-*/%()]*[\d)]")


class ScriptedChatModel(BaseChatModel):
    token_delay_s: float = 0.0
    tool_names: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "nooble4-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        names = tuple(convert_to_openai_tool(tool)["function"]["name"] for tool in tools)
        return self.model_copy(update={"tool_names": names})

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            return AIMessage(content=f"The {last.name} tool says: {last.content}")
        text = str(last.content)
        if match := SOURCE_ONE.search(text):  # a grounded-answer prompt: cite the first source
            sentence = match.group(1).split(". ")[0].strip().rstrip(".")
            return AIMessage(content=f"{sentence}. [1]")
        already_used_tool = any(isinstance(m, ToolMessage) for m in messages)
        if not already_used_tool and (named := self._named_call(text)) is not None:
            return self._tool_call(*named)
        if not already_used_tool:
            expression = next(
                (m.group(0) for m in ARITHMETIC.finditer(text) if re.search(r"\d\s*[-+*/%]", m.group(0))), None
            )
            if "calculator" in self.tool_names and expression:
                return self._tool_call("calculator", {"expression": expression})
            if "current_time" in self.tool_names and "time" in text.lower():
                return self._tool_call("current_time", {})
            if "knowledge" in self.tool_names:
                return self._tool_call("knowledge", {"query": text})
        if "long story" in text.lower():
            return AIMessage(content=" ".join(f"word{i}" for i in range(400)))
        users = [m for m in messages if isinstance(m, HumanMessage)]
        recall = f" Earlier you said: {users[0].content}" if len(users) > 1 else ""
        return AIMessage(content=f"You said: {text}.{recall}")

    def _named_call(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """A bound tool named in the message and followed by a JSON object: that tool with those arguments."""
        for name in self.tool_names:
            at = text.find(name)
            start = text.find("{", at) if at >= 0 else -1
            if start < 0:
                continue
            try:
                args, _ = json.JSONDecoder().raw_decode(text[start:])
            except ValueError:
                continue
            if isinstance(args, dict):
                return name, args
        return None

    def _tool_call(self, name: str, args: dict[str, Any]) -> AIMessage:
        call_id = f"call_{name}_{abs(hash(str(args))) % 10**8}"
        return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])

    def _usage(self, messages: list[BaseMessage], reply: AIMessage) -> dict[str, int]:
        prompt = sum(count_tokens(str(m.content)) for m in messages)
        completion = count_tokens(str(reply.content))
        return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._reply(messages)
        reply.usage_metadata = self._usage(messages, reply)  # type: ignore[assignment]
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _pieces(self, reply: AIMessage) -> Iterator[str]:
        words = str(reply.content).split(" ")
        for i, word in enumerate(words):
            yield word if i == 0 else " " + word

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        last = str(messages[-1].content).lower()
        if "think forever" in last:
            if "out loud" in last:  # an answer cut short by the turn's time limit
                for piece in self._pieces(reply):
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
            await asyncio.sleep(3600)
        delay = self.token_delay_s or (LONG_STORY_TOKEN_DELAY_S if str(reply.content).startswith("word0 ") else 0)
        if reply.tool_calls:
            chunk = AIMessageChunk(
                content="",
                tool_call_chunks=[
                    tool_call_chunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
                    for i, c in enumerate(reply.tool_calls)
                ],
            )
            yield ChatGenerationChunk(message=chunk)
        else:
            for piece in self._pieces(reply):
                if delay:
                    await asyncio.sleep(delay)
                if run_manager:
                    await run_manager.on_llm_new_token(piece)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=self._usage(messages, reply), chunk_position="last")
        )
