"""Request-body limits enforced before any parsing: size (413) and JSON nesting depth (400).

A body is read at most ``max_body_bytes`` into memory, whatever ``Content-Length`` claims, and its
nesting is measured by a byte scan that cannot recurse, so no input can exhaust memory or the stack.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratcare.errors import Issue, operation_outcome

FHIR_JSON = b"application/fhir+json"


class BodyTooLarge(Exception):
    pass


_STRING = re.compile(rb'(?s)"[^"\\]*(?:\\.[^"\\]*)*"')
"""A complete JSON string, escapes included (its brackets are text, not structure)."""
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')


def json_depth(body: bytes) -> int:
    """The deepest nesting of objects and arrays in ``body`` (strings are skipped, escapes honoured).

    Strings are removed by one regular expression and everything but brackets by ``bytes.translate``, both
    in C, so the loop walks only the brackets; a quote left over opens a string that never closes, whose
    remainder is text.
    """
    depth = deepest = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_STRUCTURE):
        if byte == 0x22:  # an unterminated string: the rest is inside it
            break
        if byte in (0x7B, 0x5B):  # { [
            depth += 1
            deepest = max(deepest, depth)
        else:  # } ]
            depth -= 1
    return deepest


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(send, 413, "too-costly", f"the body exceeds {self.max_body_bytes} bytes")
            return
        try:
            body = await self._read_body(receive)
        except BodyTooLarge:
            await _refuse(send, 413, "too-costly", f"the body exceeds {self.max_body_bytes} bytes")
            return
        if json_depth(body) > self.max_json_depth:
            await _refuse(send, 400, "structure", f"JSON nested deeper than {self.max_json_depth} levels")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    payload = json.dumps(operation_outcome([Issue(code=code, diagnostics=message)])).encode()
    headers = [(b"content-type", FHIR_JSON), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
