"""Trusted clients' public keys: JWKS fetched over HTTPS or read from a file, cached, refreshed on rotation.

A key set is kept for ``ttl_seconds``. A token whose ``kid`` is not in the cached set triggers one refetch
(the client may have rotated its keys), but never more than one per ``min_refetch_seconds`` for a source,
so a stream of tokens with made-up ``kid`` values cannot turn the service into a request amplifier.
When a refetch fails the previous keys stay in use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024
PUBLIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
KeyIndex = dict[tuple[str, str], Key]
"""Keys by ``(kid, kty)``."""


class KeySetUnavailable(Exception):
    pass


@dataclass(frozen=True)
class KeySource:
    """Where one issuer's keys live: exactly one of ``url`` and ``file``."""

    url: str | None = None
    file: Path | None = None

    def __str__(self) -> str:
        return self.url if self.url is not None else f"file {self.file}"


@dataclass
class _Entry:
    attempted_at: float
    fetched_at: float | None = None
    keys: KeyIndex = field(default_factory=dict)


def parse_jwks(raw: bytes) -> KeyIndex:
    """Public signing keys with a ``kid`` from a JWKS document; other entries are skipped."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise KeySetUnavailable("key set is not JSON") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeySetUnavailable("key set has no 'keys' list")
    index: KeyIndex = {}
    for entry in entries:
        key = _public_signing_key(entry)
        if key is not None and key.kid is not None:
            index.setdefault((key.kid, key.key_type), key)
    return index


def _public_signing_key(entry: object) -> Key | None:
    if not isinstance(entry, dict) or entry.get("kty") not in PUBLIC_KEY_TYPES:
        return None
    if not isinstance(entry.get("kid"), str) or entry.get("use", "sig") != "sig" or "d" in entry:
        return None
    try:
        return JWKRegistry.import_key(entry)
    except (JoseError, ValueError, TypeError):
        return None


class JwksCache:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        ttl_seconds: float,
        min_refetch_seconds: float,
        timeout_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._timeout = httpx.Timeout(timeout_seconds)
        self._monotonic = monotonic
        self._entries: dict[KeySource, _Entry] = {}
        self._locks: dict[KeySource, asyncio.Lock] = {}

    async def key(self, source: KeySource, kid: str, key_type: str) -> Key | None:
        """The key with that ``kid`` and ``kty``, refetching the set when it is stale or lacks the key."""
        lock = self._locks.setdefault(source, asyncio.Lock())
        async with lock:
            entry = self._entries.get(source)
            now = self._monotonic()
            if self._refresh_due(entry, now, (kid, key_type)):
                entry = await self._refresh(source, entry, now)
            return entry.keys.get((kid, key_type)) if entry is not None else None

    def _refresh_due(self, entry: _Entry | None, now: float, wanted: tuple[str, str]) -> bool:
        if entry is None:
            return True
        if now - entry.attempted_at < self._min_refetch:
            return False
        stale = entry.fetched_at is None or now - entry.fetched_at >= self._ttl
        return stale or wanted not in entry.keys

    async def _refresh(self, source: KeySource, entry: _Entry | None, now: float) -> _Entry:
        updated = entry or _Entry(attempted_at=now)
        updated.attempted_at = now
        try:
            updated.keys = parse_jwks(await self._load(source))
            updated.fetched_at = now
        except KeySetUnavailable as exc:
            logger.warning(
                "key set unavailable; keeping previous keys",
                extra={"source": str(source), "reason": str(exc)},
            )
        self._entries[source] = updated
        return updated

    async def _load(self, source: KeySource) -> bytes:
        if source.file is not None:
            return await asyncio.to_thread(_read_file, source.file)
        if source.url is None:
            raise KeySetUnavailable("no key source")
        return await self._fetch(source.url)

    async def _fetch(self, url: str) -> bytes:
        try:
            async with self._http.stream(
                "GET",
                url,
                timeout=self._timeout,
                follow_redirects=False,
                headers={"Accept": "application/json"},
            ) as response:
                if response.status_code != 200:
                    raise KeySetUnavailable(f"key set URL answered {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_JWKS_BYTES:
                        raise KeySetUnavailable("key set is too large")
                return bytes(body)
        except httpx.HTTPError as exc:
            raise KeySetUnavailable(f"key set URL unreachable: {type(exc).__name__}") from exc


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_JWKS_BYTES + 1)
    except OSError as exc:
        raise KeySetUnavailable(f"key set file unreadable: {type(exc).__name__}") from exc
    if len(raw) > MAX_JWKS_BYTES:
        raise KeySetUnavailable("key set file is too large")
    return raw
