"""Just enough strict DER (ITU-T X.690) for the ASN.1 structures that carry SM2 keys and signatures.

Encodes and parses definite-length, low-tag-number TLVs only; non-minimal lengths and integers are
refused, so every value has exactly one encoding.
"""

from __future__ import annotations

import base64
import binascii

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OBJECT_IDENTIFIER = 0x06
SEQUENCE = 0x30


class DERError(ValueError):
    """The bytes are not the strict DER that was expected."""


def encode(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        length = bytes([size])
    else:
        count = (size.bit_length() + 7) // 8
        length = bytes([0x80 | count]) + size.to_bytes(count, "big")
    return bytes([tag]) + length + content


def encode_integer(value: int) -> bytes:
    """A non-negative INTEGER, minimal two's complement (a leading zero when the top bit is set)."""
    if value < 0:
        raise ValueError("only non-negative integers are encoded")
    return encode(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def encode_sequence(*items: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(items))


def _read(data: bytes, offset: int) -> tuple[int, bytes, int]:
    if offset + 2 > len(data):
        raise DERError("truncated DER element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DERError("high tag numbers are not supported")
    first = data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DERError("indefinite lengths are not DER")
    else:
        count = first & 0x7F
        if count > 4 or position + count > len(data):
            raise DERError("bad DER length")
        length = int.from_bytes(data[position : position + count], "big")
        if length < 0x80 or data[position] == 0:
            raise DERError("non-minimal DER length")
        position += count
    end = position + length
    if end > len(data):
        raise DERError("truncated DER element")
    return tag, data[position:end], end


def parse(data: bytes, tag: int) -> bytes:
    """The content of the single element ``data`` holds, which must carry ``tag``."""
    found, content, end = _read(data, 0)
    if found != tag:
        raise DERError(f"expected tag 0x{tag:02x}, found 0x{found:02x}")
    if end != len(data):
        raise DERError("trailing bytes after DER element")
    return content


def children(content: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) pairs of the elements that fill ``content`` (a constructed value)."""
    items: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(content):
        tag, value, offset = _read(content, offset)
        items.append((tag, value))
    return items


def decode_integer(content: bytes) -> int:
    """A non-negative INTEGER's content, refusing negative and non-minimal encodings."""
    if not content:
        raise DERError("empty INTEGER")
    if content[0] & 0x80:
        raise DERError("negative INTEGER")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise DERError("non-minimal INTEGER")
    return int.from_bytes(content, "big")


def to_pem(der: bytes, label: str) -> bytes:
    """RFC 7468 textual encoding: base64 in lines of 64 characters between the labels."""
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        f"-----BEGIN {label}-----\n".encode()
        + b"\n".join(lines)
        + f"\n-----END {label}-----\n".encode()
    )


def from_pem(pem: bytes, label: str) -> bytes:
    """The DER inside the one RFC 7468 block labelled ``label`` (surrounding text is ignored)."""
    begin = f"-----BEGIN {label}-----".encode()
    end = f"-----END {label}-----".encode()
    start = pem.find(begin)
    stop = pem.find(end, start + len(begin)) if start >= 0 else -1
    if start < 0 or stop < 0:
        raise DERError(f"no PEM block labelled {label!r}")
    body = b"".join(pem[start + len(begin) : stop].split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DERError("PEM body is not valid base64") from exc
