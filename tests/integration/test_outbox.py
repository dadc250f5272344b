"""The worker's outbox sends a batch of message endings as few commands as keep every message's order."""

from __future__ import annotations

import asyncio

from common.workers.outbox import CommandBuffer, Outbox, queue_batch


def _ending(reply_list: str, reply: str, stream: str, group: str, message_id: str, ttl: int = 60) -> CommandBuffer:
    buffer = CommandBuffer()
    buffer.lpush(reply_list, reply)
    buffer.expire(reply_list, ttl)
    buffer.xack(stream, group, message_id)
    return buffer


async def test_a_batch_travels_as_one_command_per_list_and_stream_and_keeps_each_message_order(redis, queues) -> None:
    stream, group = queues.action_stream("bench", "free"), "workers"
    other_stream = queues.action_stream("bench", "enterprise")
    shared, own = queues.response_queue("caller", "a"), queues.response_queue("caller", "b")
    failures = queues.state_key("bench", "failures")
    dead_letters = queues.dead_letter_stream("bench")
    ids = {}
    for target in (stream, other_stream):
        await redis.xgroup_create(target, group, id="0", mkstream=True)
        ids[target] = [await redis.xadd(target, {"action": str(n)}) for n in range(3)]
        await redis.xreadgroup(group, "consumer", {target: ">"})
    await redis.hset(failures, mapping={"m0": 1, "m1": 2})

    failed = _ending(shared, "reply-2", stream, group, ids[stream][2], ttl=3600)
    failed.xadd(dead_letters, {"action": "2", "error": "boom"})
    failed.hdel(failures, "m1")
    buffers = [
        _ending(shared, "reply-0", stream, group, ids[stream][0]),
        _ending(own, "reply-other", other_stream, group, ids[other_stream][0]),
        _ending(shared, "reply-1", stream, group, ids[stream][1]),
        failed,
    ]
    async with redis.pipeline(transaction=False) as pipe:
        queue_batch(pipe, buffers)
        sent = [args[0] for args, _ in pipe.command_stack]
        results = await pipe.execute()

    # two lists, two expiries, one dead letter, one HDEL, two XACKs: 8 commands for 4 messages (15 one by one)
    assert sent == ["LPUSH", "LPUSH", "EXPIRE", "EXPIRE", "XADD", "HDEL", "XACK", "XACK"]
    assert results[-2:] == [3, 1]  # every id acknowledged
    assert 3590 < await redis.ttl(shared) <= 3600  # the longest TTL asked for a list wins
    assert await redis.rpop(shared, 10) == ["reply-0", "reply-1", "reply-2"]  # replies in the order they ended
    assert await redis.rpop(own, 10) == ["reply-other"]
    assert await redis.hkeys(failures) == ["m0"]
    assert (await redis.xpending(stream, group))["pending"] == 0
    assert (await redis.xpending(other_stream, group))["pending"] == 2
    assert [fields["action"] for _, fields in await redis.xrange(dead_letters)] == ["2"]


async def test_senders_learn_when_their_batch_was_executed(redis, queues) -> None:
    outbox = Outbox(redis)
    try:
        reply_list = queues.response_queue("caller", "c")
        stream = queues.action_stream("bench", "free")
        await redis.xgroup_create(stream, "workers", id="0", mkstream=True)
        message_id = await redis.xadd(stream, {"action": "x"})
        await redis.xreadgroup("workers", "consumer", {stream: ">"})
        await outbox.send(_ending(reply_list, "reply", stream, "workers", message_id))
        assert await redis.lrange(reply_list, 0, -1) == ["reply"]
        assert (await redis.xpending(stream, "workers"))["pending"] == 0
    finally:
        await outbox.close()


async def test_endings_sent_while_a_lone_one_is_on_the_wire_follow_it_in_order(redis, queues) -> None:
    reply_list = queues.response_queue("caller", "d")
    stream = queues.action_stream("bench", "free")
    await redis.xgroup_create(stream, "workers", id="0", mkstream=True)
    ids = [await redis.xadd(stream, {"action": str(n)}) for n in range(4)]
    await redis.xreadgroup("workers", "consumer", {stream: ">"})
    outbox = Outbox(redis)
    try:
        first = asyncio.create_task(outbox.send(_ending(reply_list, "first", stream, "workers", ids[0]), alone=True))
        await asyncio.sleep(0)  # its pipeline is on the wire: the others queue behind it
        others = [outbox.send(_ending(reply_list, f"r{n}", stream, "workers", ids[n])) for n in (1, 2, 3)]
        await asyncio.wait_for(asyncio.gather(first, *others), 5)
    finally:
        await outbox.close()
    assert await redis.rpop(reply_list, 10) == ["first", "r1", "r2", "r3"]
    assert (await redis.xpending(stream, "workers"))["pending"] == 0
