"""An HTTP/1.1 proxy that passes requests to one backend, or applies a fault to them (stdlib asyncio only).

Why not Toxiproxy: it works on TCP streams, so it can add latency, cut or slow a connection, but it cannot
answer 503 in the backend's own JSON, serve an HTML page or break the JSON of a real answer. This proxy
reads each request and each answer as an HTTP message, so it can do all of those, and the fault in force
when a request arrives decides what happens to it: changing `fault` takes effect on the next request, even
on a pooled keep-alive connection.

Answers are read whole from the backend (asking it for no compression and to close the connection), then
re-framed with a Content-Length towards Sextant: that is what lets a fault cut the body or trickle it.
When the backend refuses the connection (its process was killed), Sextant's connection is reset, as a TCP
proxy would do. Run it in a background thread with `ProxyThread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from stack.chaos.faults import SIGN_IN_PAGE, Fault, error_body

T = TypeVar("T")

MAX_HEADER_BYTES = 64 * 1024
UPSTREAM_TIMEOUT_S = 120.0  # a paused backend's answers are dropped after this
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding", "te"}


class ProtocolError(Exception):
    """A message this proxy cannot read: the connection is closed."""


@dataclass
class Message:
    """A request (`start` = request line) or an answer (`start` = status line), body de-chunked."""

    start: bytes
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)

    def encode(self, body: bytes | None = None, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
        """The message with `body` (default its own), framed by Content-Length, hop-by-hop headers dropped."""
        body = self.body if body is None else body
        kept = [(k, v) for k, v in self.headers if k.lower() not in _HOP_BY_HOP]
        lines = [f"{k}: {v}" for k, v in (*kept, *extra, ("Content-Length", str(len(body))))]
        return self.start + b"\r\n" + "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


async def read_message(reader: asyncio.StreamReader, *, until_eof: bool) -> Message | None:
    """One HTTP message; None at a clean end of stream. Without Content-Length or chunking, an answer's body
    runs to the end of the stream (`until_eof`) and a request has none."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ProtocolError("connection closed inside the headers") from exc
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError("headers too long") from exc
    start, *lines = head[:-4].split(b"\r\n")
    headers = []
    for line in lines:
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:60]!r}")
        headers.append((name.strip(), value.strip()))
    message = Message(start, headers, b"")
    if (message.header("transfer-encoding") or "").lower() == "chunked":
        message.body = await _read_chunked(reader)
    elif (length := message.header("content-length")) is not None:
        message.body = await reader.readexactly(int(length))
    elif until_eof:
        message.body = await reader.read()
    return message


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


class FaultProxy:
    """Listens on 127.0.0.1 and serves every request according to `fault`.

    `upstream` is the backend's (host, port); None for a proxy that only ever answers by itself (the
    faults ERROR, HTML and HANG), as the failure-matrix tests use it. `targets` lists the path and query
    of every request that arrived, in order.
    """

    def __init__(self, backend: str, upstream: tuple[str, int] | None, fault: Fault = Fault.NONE) -> None:
        self.backend = backend
        self.upstream = upstream
        self.fault = fault
        self.delay_s = 2.0  # LATENCY
        self.trickle_bytes, self.trickle_every_s = 64, 0.5  # TRICKLE: 128 bytes a second
        self.targets: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._error_body = error_body(backend)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port, limit=MAX_HEADER_BYTES)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for handler in self._handlers:
                handler.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            while (request := await read_message(reader, until_eof=False)) is not None:
                self.targets.append(request.start.split(b" ")[1].decode("latin-1"))
                if not await self._answer(request, self.fault, reader, writer):
                    return
                if (request.header("connection") or "").lower() == "close":
                    return
        except (ProtocolError, ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:  # closing: end quietly (asyncio would log a cancelled handler)
            return
        finally:
            self._handlers.discard(handler)
            writer.close()

    async def _answer(
        self, request: Message, fault: Fault, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection must end (reset, abandoned or client gone)."""
        if fault is Fault.ERROR:
            return await _send(
                writer, _own_answer(b"503 Service Unavailable", "application/json", self._error_body)
            )
        if fault is Fault.HTML:
            return await _send(writer, _own_answer(b"200 OK", "text/html; charset=utf-8", SIGN_IN_PAGE))
        if fault is Fault.HANG:
            await _client_gone(reader)
            return False
        if fault is Fault.LATENCY:
            waited = await _unless_gone(reader, asyncio.sleep(self.delay_s, result=True))
            if not waited:
                return False
        answer = await _unless_gone(reader, self._ask_upstream(request))
        if answer is None:  # the client gave up, or the backend refused or never answered
            _reset(writer)
            return False
        if fault is Fault.RESET:
            data = answer.encode()
            await _send(writer, data[: len(data) - len(answer.body) // 2])
            await asyncio.sleep(0.05)
            _reset(writer)
            return False
        if fault is Fault.MALFORMED:
            return await _send(writer, answer.encode(answer.body[: len(answer.body) // 2]))
        if fault is Fault.TRICKLE:
            return await self._trickle(writer, answer.encode())
        return await _send(writer, answer.encode())

    async def _ask_upstream(self, request: Message) -> Message | None:
        if self.upstream is None:
            return None
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            return None
        try:
            forwarded = (("Connection", "close"), ("Accept-Encoding", "identity"))
            up_writer.write(request.encode(extra=forwarded))
            await up_writer.drain()
            async with asyncio.timeout(UPSTREAM_TIMEOUT_S):
                return await read_message(up_reader, until_eof=True)
        except (OSError, ProtocolError, asyncio.IncompleteReadError, TimeoutError):
            return None
        finally:
            up_writer.close()

    async def _trickle(self, writer: asyncio.StreamWriter, data: bytes) -> bool:
        """A few bytes at a time while the fault lasts; the rest at once when it is lifted (as a mended
        link would), so no request trickles on into whatever runs next."""
        offset = 0
        while offset < len(data) and self.fault is Fault.TRICKLE:
            if not await _send(writer, data[offset : offset + self.trickle_bytes]):
                return False
            offset += self.trickle_bytes
            await asyncio.sleep(self.trickle_every_s)
        return await _send(writer, data[offset:])


def _own_answer(status: bytes, content_type: str, body: bytes) -> bytes:
    return Message(b"HTTP/1.1 " + status, [("Content-Type", content_type)], body).encode()


async def _send(writer: asyncio.StreamWriter, data: bytes) -> bool:
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError:
        return False
    return True


async def _client_gone(reader: asyncio.StreamReader) -> None:
    """Returns when the client closes its side (it never sends more while it waits for an answer)."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


async def _unless_gone(reader: asyncio.StreamReader, work: Coroutine[Any, Any, T]) -> T | None:
    """`work`'s result, or None (and `work` cancelled) if the client hangs up first."""
    task = asyncio.ensure_future(work)
    gone = asyncio.ensure_future(_client_gone(reader))
    await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    gone.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await gone  # the reader is free again only once that read has ended
    if not task.done():
        task.cancel()
        return None
    return task.result()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a connection that breaks rather than ends."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ProxyThread:
    """An event loop in a daemon thread serving any number of `FaultProxy`s; use it as a context manager."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy", daemon=True)
        self._proxies: list[FaultProxy] = []

    def __enter__(self) -> ProxyThread:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        for proxy in self._proxies:
            self._run(proxy.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def add(
        self, backend: str, upstream: tuple[str, int] | None, fault: Fault = Fault.NONE, port: int = 0
    ) -> FaultProxy:
        proxy = FaultProxy(backend, upstream, fault)
        self._run(proxy.start(port))
        self._proxies.append(proxy)
        return proxy

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=30)
