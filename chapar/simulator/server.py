"""The simulator's HTTP/1.1 server: asyncio.Protocol with a minimal parser.

Why not http.server or a framework: the simulator stands in for the provider in benchmarks,
so its own cost must stay far below the client's (a 200-receptor ``sendarray`` well under
1 ms of CPU). The parser handles what real clients send: keep-alive, Content-Length,
chunked bodies, ``Expect: 100-continue``, GET query strings and form-encoded POSTs.

Routes: ``/v1/{apikey}/{scope}/{method}.json`` (Kavenegar) and the control endpoints
``GET /_simulator/state``, ``GET /_simulator/outbox[?receptor=…]``,
``GET|POST /_simulator/faults``, ``POST /_simulator/credit``, ``POST /_simulator/reset``,
``GET /_simulator/inbox`` (every reply, with ``read``) and ``POST /_simulator/inbox`` (inject
replies: ``{"sender": "09121234567", "text": "لغو ۱۱", "receptor": "10004346"}`` or a list of
them; ``receptor`` defaults to the line that last messaged the sender; answers the replies as
``sms/receive`` will show them).
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, unquote_to_bytes

from chapar.simulator.engine import Reply, Simulator, SimulatorConfig, envelope

MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
JSON_TYPE = b"application/json; charset=utf-8"
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Request:
    __slots__ = ("body", "headers", "method", "query", "target", "version")

    def __init__(
        self, method: str, target: str, version: str, headers: dict[str, str], body: bytes
    ) -> None:
        self.method, self.version, self.headers, self.body = method, version, headers, body
        self.target, _, self.query = target.partition("?")

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

    def params(self) -> dict[str, str]:
        """Query string and form body merged (body wins), as Kavenegar reads them."""
        params = parse_form(self.query.encode("latin-1", "replace")) if self.query else {}
        if self.body and "json" not in self.headers.get("content-type", ""):
            params.update(parse_form(self.body))
        return params

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else {}


_PLUS_PERCENT = bytes.maketrans(b"+%", b" =")


def unquote_form(raw: bytes) -> str:
    """``application/x-www-form-urlencoded`` decoding (percent-decode the bytes, then UTF-8,
    as WHATWG says and ``unquote_plus`` does for ASCII input), but in C:
    a 200-message Persian body is ~170 KB of ``%XX`` that ``unquote_plus`` takes ~8 ms
    over. Quoted-printable decoding is the same ``=XX`` job, so translate ``%``→``=`` and
    let ``binascii.a2b_qp`` do it. Used only when the result provably equals
    the exact decoding (no raw ``=``/CR/LF, and every ``%`` was a valid escape: each one
    shrank the text by exactly two bytes); anything else takes the slow exact path."""
    if b"%" not in raw:
        return raw.replace(b"+", b" ").decode("utf-8", "replace")
    if b"=" not in raw and b"\n" not in raw and b"\r" not in raw:
        out = binascii.a2b_qp(raw.translate(_PLUS_PERCENT))
        if len(out) == len(raw) - 2 * raw.count(b"%"):
            return out.decode("utf-8", "replace")
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


#: Fields a campaign sends verbatim in every request (one text, one line).
_REPEATED_FIELDS = frozenset({b"message", b"sender"})
_recent: dict[tuple[int, bytes, bytes], tuple[bytes, str]] = {}


def _unquote_repeated(raw: bytes) -> str:
    """Decode a repeated field once per distinct value: ~150 µs saved per Persian request.
    The key is cheap (length and ends); a hit is confirmed by full equality (a memcmp). The
    same ``str`` object comes back, so the engine's cache of parsed arrays hits at once."""
    if len(raw) < 1024:
        return unquote_form(raw)
    key = (len(raw), raw[:64], raw[-64:])
    hit = _recent.get(key)
    if hit is not None and hit[0] == raw:
        return hit[1]
    if len(_recent) >= 32:
        _recent.clear()
    value = unquote_form(raw)
    _recent[key] = (raw, value)
    return value


def parse_form(data: bytes) -> dict[str, str]:
    """Form fields; a repeated name keeps its last value."""
    fields: dict[str, str] = {}
    for pair in data.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            decode = _unquote_repeated if name in _REPEATED_FIELDS else unquote_form
            fields[unquote_form(name)] = decode(value)
    return fields


class _Clock:
    """The Date header, formatted once a second rather than per response."""

    second = -1
    value = b""

    @classmethod
    def date(cls) -> bytes:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.value = now, formatdate(now, usegmt=True).encode()
        return cls.value


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body from ``start``: ``(body, end)`` or None while incomplete."""
    body, pos = bytearray(), start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(400) from None
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)  # skip trailers
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        if len(body) > MAX_BODY:
            raise _BadRequest(413)
        pos += size + 2


def _inject(sim: Simulator, body: Any) -> list[dict[str, Any]]:
    """``POST /_simulator/inbox``: one reply object or a list of them, all or none."""
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict) or not {"sender", "text"} <= item.keys():
            raise ValueError('each reply needs "sender" and "text" (and may name "receptor")')
        unknown = set(item) - {"sender", "text", "receptor"}
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    # Check every item before adding any (inject validates, so a dry pass is a copy).
    for item in items:
        sim.check_reply(item["sender"], item["text"], item.get("receptor"))
    return [sim.inject(item["sender"], item["text"], item.get("receptor")) for item in items]


class HttpProtocol(asyncio.Protocol):
    """One connection. Requests are answered strictly in order; while one is delayed
    (latency) or held (timeout fault), later bytes wait in the buffer."""

    def __init__(self, app: SimulatorServer) -> None:
        self._app = app
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False
        self._closed = False
        self._continued = False
        self._held = False
        self._hold: asyncio.TimerHandle | None = None

    # --- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._app.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._app.connections.discard(self)
        if self._hold is not None:
            self._hold.cancel()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._busy:
            self._pump()

    # --- parsing -------------------------------------------------------------------------

    def _pump(self) -> None:
        while not self._busy and not self._closed:
            try:
                request = self._parse()
            except _BadRequest as exc:
                self._answer(
                    exc.status, json.dumps({"error": _REASONS[exc.status]}).encode(), keep=False
                )
                return
            if request is None:
                return
            self._dispatch(request)

    def _parse(self) -> _Request | None:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise _BadRequest(431)
            return None
        lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest(400)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(400)
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            decoded = _dechunk(buf, start)
            if decoded is None:
                self._maybe_continue(headers)
                return None
            body, consumed = decoded
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise _BadRequest(400) from None
            if length < 0:
                raise _BadRequest(400)
            if length > MAX_BODY:
                raise _BadRequest(413)
            if len(buf) < start + length:
                self._maybe_continue(headers)
                return None
            body, consumed = bytes(buf[start : start + length]), start + length
        del buf[:consumed]
        self._continued = False
        return _Request(parts[0], parts[1], parts[2], headers, body)

    def _maybe_continue(self, headers: dict[str, str]) -> None:
        """curl sends ``Expect: 100-continue`` for large bodies and waits for this."""
        if not self._continued and headers.get("expect", "").lower() == "100-continue":
            self._continued = True
            assert self._transport is not None
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    # --- routing -------------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> None:
        if request.target.startswith("/v1/"):
            latency = self._app.sim.config.latency_ms
            if latency > 0:
                self._busy = True
                self._app.spawn(self._later(latency / 1000.0, request))
            else:
                self._api(request)
        elif request.target.startswith("/_simulator/"):
            self._control(request)
        else:
            self._answer(404, b'{"error":"not found"}', request.keep_alive)

    async def _later(self, delay: float, request: _Request) -> None:
        await asyncio.sleep(delay)
        # Processed even if the client gave up meanwhile: a slow provider still accepts.
        self._api(request)
        if not self._held and not self._closed:
            self._busy = False
            self._pump()

    def _api(self, request: _Request) -> None:
        key, _, method = request.target[4:].partition("/")
        if request.method not in ("GET", "POST"):
            reply = Reply(405, envelope(405))
        else:
            reply = self._app.sim.api(unquote(key), method, request.params())
        if reply.action == "drop":
            self._close()
        elif reply.action == "timeout":
            self._busy = self._held = True  # the connection never speaks again
            self._hold = asyncio.get_running_loop().call_later(
                self._app.sim.config.hold_s, self._close
            )
        else:
            self._answer(reply.status, reply.body, request.keep_alive)

    def _control(self, request: _Request) -> None:
        sim, name = self._app.sim, request.target[len("/_simulator/") :]
        try:
            if name == "state" and request.method == "GET":
                result: Any = sim.state()
            elif name == "outbox" and request.method == "GET":
                query = dict(parse_qsl(request.query))
                result = sim.outbox(query.get("receptor"))
            elif name == "faults" and request.method == "GET":
                result = sim.config.faults()
            elif name == "faults" and request.method == "POST":
                changes = request.json()
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of faults")
                sim.set_faults(changes)
                result = sim.config.faults()
            elif name == "credit" and request.method == "POST":
                sim.set_credit(int(request.json()["credit"]))
                result = {"credit": sim.credit}
            elif name == "inbox" and request.method == "GET":
                result = sim.inbox()
            elif name == "inbox" and request.method == "POST":
                result = _inject(sim, request.json())
            elif name == "reset" and request.method == "POST":
                sim.reset()
                result = {"ok": True}
            else:
                self._answer(404, b'{"error":"not found"}', request.keep_alive)
                return
        except (ValueError, TypeError, KeyError) as exc:
            body = json.dumps({"error": str(exc)}).encode()
            self._answer(400, body, request.keep_alive)
            return
        self._answer(200, json.dumps(result).encode(), request.keep_alive)

    # --- writing -------------------------------------------------------------------------

    def _answer(self, status: int, body: bytes, keep: bool) -> None:
        if self._closed or self._transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nDate: %s\r\n%s\r\n" % (
            status,
            _REASONS.get(status, "Error").encode(),
            JSON_TYPE,
            len(body),
            _Clock.date(),
            b"" if keep else b"Connection: close\r\n",
        )
        self._transport.write(head + body)
        if not keep:
            self._close()

    def _close(self) -> None:
        self._busy = True
        if self._transport is not None and not self._closed:
            self._transport.close()


class SimulatorServer:
    """The listening socket, its connections and the simulator state they share."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.sim = Simulator(config)
        self.connections: set[HttpProtocol] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        config = self.sim.config
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpProtocol(self), config.host, config.port, reuse_address=True, backlog=1024
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection._close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            await self._server.wait_closed()


async def serve(
    config: SimulatorConfig,
    *,
    ready: Callable[[SimulatorServer], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until ``stop`` is set or SIGINT/SIGTERM arrives. ``ready`` runs once listening."""
    server = SimulatorServer(config)
    await server.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(server)
    try:
        await stop.wait()
    finally:
        await server.close()


def _announce(server: SimulatorServer) -> None:
    host = server.sim.config.host
    print(f"chapar simulator listening on http://{host}:{server.port}/v1", flush=True)


def run_simulator(host: str = "127.0.0.1", port: int = 8765, **faults: Any) -> None:
    """Blocking: serve the simulator until interrupted. ``faults`` are any
    :class:`SimulatorConfig` fields (credit, latency_ms, error_rate, …). Prints one line,
    ``chapar simulator listening on http://HOST:PORT/v1``, once it accepts connections
    (with ``port=0`` that line tells the port the system chose)."""
    config = SimulatorConfig(host=host, port=port, **faults)
    with contextlib.suppress(KeyboardInterrupt):  # the signal handler normally wins
        asyncio.run(serve(config, ready=_announce))
    sys.stdout.flush()
