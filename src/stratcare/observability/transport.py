"""An httpx transport that times every request it sends and reports its outcome."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

FetchObserver = Callable[[str, float], None]
"""Called with the outcome (``2xx`` … ``5xx``, ``timeout``, ``error``) and the seconds it took."""


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps another transport; the time measured is until the response headers (or the failure)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        observe: FetchObserver,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._inner = inner
        self._observe = observe
        self._monotonic = monotonic

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = self._monotonic()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._observe("timeout", self._monotonic() - started)
            raise
        except httpx.TransportError:
            self._observe("error", self._monotonic() - started)
            raise
        self._observe(f"{response.status_code // 100}xx", self._monotonic() - started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
