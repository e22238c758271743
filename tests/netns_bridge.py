"""A machine of its own network: run a command in a fresh network namespace whose only
interface is its own loopback, with the shared services reachable there at their usual
``127.0.0.1:PORT`` through Unix sockets (which a network namespace does not hide).

    unshare --net -- python -m tests.netns_bridge PORT=SOCKET … -- COMMAND …

Inside, each ``PORT`` on the namespace's loopback forwards to the Unix socket ``SOCKET``
(PostgreSQL listens on one itself; :class:`UnixToTcp` gives the simulator one), so the
worker reaches the store and the provider and nothing else: not the test process's
loopback, not another worker. Exits with the command's exit code; a signal to the
process group reaches both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _join(
    client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    await asyncio.gather(_pipe(client[0], upstream[1]), _pipe(upstream[0], client[1]))


class UnixToTcp:
    """On the host: a Unix socket at ``path`` forwarding to ``127.0.0.1:port``."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"unix-{port}")

    def __enter__(self) -> UnixToTcp:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                upstream = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                writer.close()
                return
            await _join((reader, writer), upstream)

        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_unix_server(serve, str(self.path)))
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()


async def _bridge(routes: dict[int, str], command: list[str]) -> int:
    def serve_to(
        path: str,
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                upstream = await asyncio.open_unix_connection(path)
            except OSError:
                writer.close()
                return
            await _join((reader, writer), upstream)

        return serve

    servers = [
        await asyncio.start_server(serve_to(path), "127.0.0.1", port)
        for port, path in routes.items()
    ]
    proc = await asyncio.create_subprocess_exec(*command)
    code = await proc.wait()
    for server in servers:
        server.close()
    return code


def main(argv: list[str]) -> int:
    split = argv.index("--")
    routes = {int(p): s for p, s in (arg.split("=", 1) for arg in argv[:split])}
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # the namespace's own loopback: nothing of the host's answers here
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
    return asyncio.run(_bridge(routes, argv[split + 1 :]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
