"""The JSON nesting scan gives the depth a byte-by-byte reading gives, on any bytes at all."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from stratcare.api.limits import json_depth


def depth_byte_by_byte(body: bytes) -> int:
    """The reference: walk every byte, skipping strings and honouring escapes."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return deepest


ALPHABET = b'{}[]"\\ a:,\n'
STRUCTURAL = st.binary(max_size=60).map(lambda raw: bytes(ALPHABET[b % len(ALPHABET)] for b in raw))


@settings(max_examples=500)
@given(STRUCTURAL)
def test_any_bytes(body: bytes) -> None:
    assert json_depth(body) == depth_byte_by_byte(body)


@settings(max_examples=200)
@given(
    st.recursive(st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30)
)
def test_json_documents(document: object) -> None:
    body = json.dumps(document, ensure_ascii=False).encode()
    assert json_depth(body) == depth_byte_by_byte(body)


def test_examples() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[["}]}') == 3
    assert json_depth(b'["\\"[", []]') == 2
    assert json_depth(b'["unterminated [[[') == 1
    assert json_depth(b"") == 0
