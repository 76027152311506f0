"""The idle bound of async reads: the lazy timer under asyncio, fail_after under trio.

The timer is armed once and moved only when it fires early, so these cases
check what a timer per read would give: a body whose pieces keep coming within
the idle time never times out however long it lasts; a stall after them does;
the consumer's own time between reads is not idle time and is never cancelled;
and a cancellation from outside is not mistaken for a timeout.
"""

from __future__ import annotations

import anyio
import pytest

from streamrecover import HTTPRequest, TransportError
from streamrecover.testing.server import (
    FaultServer,
    SendChunk,
    Sleep,
    Stall,
    Step,
    sse_frame,
    sse_head,
    sse_response,
)
from streamrecover.transport import AsyncTransport, Timeouts

PIECE = sse_frame('{"text": "x"}')
IDLE = Timeouts(connect=5, read=5, idle=0.3, write=5)


def request_for(url: str) -> HTTPRequest:
    return HTTPRequest(method="POST", url=url, body=b"{}")


@pytest.mark.anyio
async def test_pieces_within_the_idle_time_never_time_out_then_a_stall_does() -> None:
    # 12 pieces 0.1 s apart (1.2 s in all, four idle times) and then a stall.
    script: list[Step] = [sse_head()]
    for _ in range(12):
        script += [SendChunk(PIECE), Sleep(0.1)]
    script.append(Stall(10))
    received = bytearray()
    with FaultServer([script]) as server:
        response = await AsyncTransport(proxy=None).open(request_for(server.url("/v1")), IDLE)
        with pytest.raises(TransportError) as caught:
            async with response:
                async for piece in response.aiter_bytes():
                    received += piece
    assert caught.value.kind == "idle_timeout"
    assert bytes(received) == PIECE * 12


@pytest.mark.anyio
async def test_the_consumers_time_between_reads_is_not_idle_time() -> None:
    # The whole body is at hand at once; the consumer then takes 2x the idle
    # time after each piece, in its own awaits, which must not be cancelled.
    script = sse_response([PIECE] * 3)
    pieces = 0
    with FaultServer([script]) as server:
        response = await AsyncTransport(proxy=None).open(request_for(server.url("/v1")), IDLE)
        async with response:
            async for piece in response.aiter_bytes():
                pieces += piece.count(b"data:")
                await anyio.sleep(0.6)
    assert pieces == 3
    assert repr(response) == "<AsyncResponse 200 done>"


@pytest.mark.anyio
async def test_an_outer_cancellation_is_not_a_timeout() -> None:
    script = [sse_head(), SendChunk(PIECE), Stall(10)]
    with FaultServer([script]) as server:
        response = await AsyncTransport(proxy=None).open(
            request_for(server.url("/v1")), Timeouts(connect=5, read=5, idle=5, write=5)
        )
        received = bytearray()
        with anyio.move_on_after(0.3) as scope:
            async with response:
                async for piece in response.aiter_bytes():
                    received += piece
    assert scope.cancelled_caught
    assert bytes(received) == PIECE
    assert repr(response) == "<AsyncResponse 200 closed>"


@pytest.mark.anyio
async def test_an_outer_cancellation_at_the_idle_time_leaves_as_a_cancellation() -> None:
    # Both limits fall due together: whichever the loop sees first, the caller
    # gets either the timeout or its own cancellation, never a hang, and the
    # outer scope always knows it was cancelled when no timeout came out.
    script = [sse_head(), SendChunk(PIECE), Stall(10)]
    outcomes = set()
    with FaultServer([script] * 4) as server:
        for _ in range(4):
            response = await AsyncTransport(proxy=None).open(request_for(server.url("/v1")), IDLE)
            try:
                with anyio.move_on_after(0.3) as scope:
                    async with response:
                        async for _piece in response.aiter_bytes():
                            pass
            except TransportError as error:
                assert error.kind == "idle_timeout"
                outcomes.add("timeout")
            else:
                assert scope.cancelled_caught
                outcomes.add("cancelled")
    assert outcomes <= {"timeout", "cancelled"}
