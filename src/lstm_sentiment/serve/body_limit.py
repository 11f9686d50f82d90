"""Refuse request bodies over the limit before anything parses them, whether or not Content-Length is sent."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """Bodies over max_bytes get 413; a body piece that takes over `seconds` to arrive (a stalled client, or a
    body shorter than its Content-Length), or a whole body over 6x that (1 byte a second), gets 408."""

    def __init__(self, app: ASGIApp, max_bytes: int, seconds: float = 10.0):
        self.app, self.max_bytes, self.seconds = app, max_bytes, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await refuse(send, 400, f"body: invalid Content-Length {declared.decode('latin-1')!r}")
            return
        if declared is not None and int(declared) > self.max_bytes:
            await drain(receive)
            await refuse(send, 413, f"body: {int(declared)} bytes is over the limit of {self.max_bytes} bytes")
            return
        chunks, size = [], 0
        deadline = time.monotonic() + 6 * self.seconds
        while True:  # read the body up front (bounded in bytes and time), then replay it to the app
            wait = min(self.seconds, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                await refuse(send, 408, f"body: not received within {self.seconds:g} s a piece and "
                                        f"{6 * self.seconds:g} s in all (a stalled client, or a body shorter than "
                                        "its Content-Length)")
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await drain(receive)
                await refuse(send, 413, f"body: over the limit of {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


DRAIN_BYTES = 64 << 20
DRAIN_SECONDS = 10.0


async def drain(receive: Receive) -> None:
    """Read (and drop) what the client is still sending, up to DRAIN_BYTES or DRAIN_SECONDS: a client that sends
    its whole body before reading the answer (urllib, requests) then reads the 413 instead of a connection reset."""
    deadline, size = time.monotonic() + DRAIN_SECONDS, 0
    while size < DRAIN_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def refuse(send: Send, status: int, detail: str) -> None:
    payload = json.dumps({"detail": detail, "field": "body"}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
