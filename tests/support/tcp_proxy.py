"""A loopback TCP proxy that can take a server away, for outage tests.

The bot connects to the proxy instead of the server. `refuse()` closes the listening socket
(new connections are refused, as when the server is down or its port closed) and cuts every
connection in hand (as when the server restarts or the network drops them); `accept()` listens
again on the same port, so the URL the bot was given keeps working once the outage ends.
`black_hole()` is the nastier outage: the network drops every packet, so connections are still
accepted and open ones stay open, but nothing ever comes back (a partition, a dead host behind a
firewall that drops rather than rejects). Only the bot's own time limits end its waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0  # accepted since start: tells a test the bot really came back
        self._black_holed = False
        self._swallowed: set[asyncio.StreamWriter] = set()  # clients held with no server

    @property
    def port(self) -> int:
        return self._port

    @property
    def refusing(self) -> bool:
        return self._server is None

    @property
    def black_holed(self) -> bool:
        return self._black_holed

    async def black_hole(self) -> None:
        """From now on nothing gets through either way, and nobody is told: new connections are
        accepted and held, open ones stay open and carry nothing."""
        self._black_holed = True

    async def accept(self) -> None:
        """Listen (again, on the same port once it has one). Ends a black hole: the connections
        it held are reset, as the bot's side would find them once packets flow again."""
        if self._black_holed:
            self._black_holed = False
            for writer in [*self._writers, *self._swallowed]:
                writer.transport.abort()
            self._writers.clear()
            self._swallowed.clear()
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._on_client, "127.0.0.1", self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """Stop listening and drop every open connection: the server is gone."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in [*self._writers, *self._swallowed]:
            writer.transport.abort()
        self._writers.clear()
        self._swallowed.clear()
        if server is not None:
            # After the aborts: from Python 3.12 on this also waits for the connections.
            await server.wait_closed()

    async def close(self) -> None:
        await self.refuse()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just as the outage began
            writer.transport.abort()
            return
        if self._black_holed:
            await self._swallow(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        if self._server is None:  # the outage began while the server was being reached
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Read and drop what the client sends, answer nothing, until it gives up or the hole ends.
        self._swallowed.add(writer)
        try:
            while await reader.read(CHUNK):
                pass
        except OSError:
            pass
        finally:
            self._swallowed.discard(writer)
            writer.transport.abort()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(CHUNK):
                if self._black_holed:
                    continue  # dropped on the way, and nobody told
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side ended: end the other too, as a real connection would.
            sink.transport.abort()
            self._writers.discard(sink)
            with contextlib.suppress(Exception):
                sink.close()


@asynccontextmanager
async def tcp_proxy(target_host: str, target_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    await proxy.accept()
    try:
        yield proxy
    finally:
        await proxy.close()
