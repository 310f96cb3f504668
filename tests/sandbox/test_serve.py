"""serve_app: a real server on a free port, in the test's own event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.sandbox import serve_app
from bot.sandbox.serve import ServeError


async def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


async def test_serves_on_a_free_port_until_the_block_ends() -> None:
    app = Starlette(routes=[Route("/", hello)])

    async with (
        serve_app(app) as first_url,
        serve_app(app) as second_url,
        httpx.AsyncClient() as http,
    ):
        answers = [(await http.get(url)).text for url in (first_url, second_url)]

    assert answers == ["hello", "hello"]
    assert first_url != second_url
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(first_url)


async def test_a_failing_startup_is_an_error_not_an_exit() -> None:
    @asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    with pytest.raises(ServeError):
        async with serve_app(Starlette(lifespan=broken), lifespan="on"):
            pass
