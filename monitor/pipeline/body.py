"""Reading a response body within a byte cap, undoing gzip/deflate/brotli with bounded output.

A decompression bomb (a small gzip or brotli body that expands to gigabytes) is stopped
as soon as the decoded output passes the cap: every decoder is asked for at most
`room + 1` bytes at a time, so memory never holds more than the cap plus one chunk.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli
import httpx

from monitor.errors import TooLarge, TransportError

# brotli >= 1.2 can bound its output; older versions can't, so they don't get "br" offered.
_BROTLI_BOUNDED = "output_buffer_limit" in (brotli.Decompressor.process.__doc__ or "")
ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI_BOUNDED else "gzip, deflate"


def human_size(size: int) -> str:
    """10_000_000 -> "10 MB"."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


class _Decoder(Protocol):
    def decode(self, data: bytes, room: int) -> bytes:
        """Decode `data`; stop (at least) once more than `room` bytes came out."""

    def flush(self) -> bytes: ...


class _ZlibDecoder:
    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._d = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback  # "deflate" is zlib-wrapped or raw in the wild

    def decode(self, data: bytes, room: int) -> bytes:
        try:
            return self._d.decompress(data, room + 1)
        except zlib.error:
            if not self._raw_fallback:
                raise
            self._raw_fallback = False
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._d.decompress(data, room + 1)

    def flush(self) -> bytes:
        return self._d.flush()


class _BrotliDecoder:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def decode(self, data: bytes, room: int) -> bytes:
        out = self._d.process(data, output_buffer_limit=room + 1)
        while len(out) <= room and not self._d.can_accept_more_data():
            out += self._d.process(b"", output_buffer_limit=room + 1 - len(out))
        return bytes(out)

    def flush(self) -> bytes:
        return b""


def _decoder(encoding: str) -> _Decoder | None:
    if encoding in ("gzip", "x-gzip"):
        return _ZlibDecoder(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _ZlibDecoder(zlib.MAX_WBITS, raw_fallback=True)
    if encoding == "br" and _BROTLI_BOUNDED:
        return _BrotliDecoder()
    return None  # identity, or a bogus value such as "utf-8": pass the bytes through


class CappedBody:
    """Accumulates a raw body, undoing its Content-Encoding, never holding more than `cap`."""

    def __init__(
        self,
        content_encoding: str,
        cap: int,
        *,
        truncate: bool = False,
        raw_sink: bytearray | None = None,
    ) -> None:
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        stages = [(n, d) for n in reversed(names) if (d := _decoder(n)) is not None]
        self._stages = stages
        self._cap = cap
        self._truncate = truncate
        self._raw = 0
        self._out = bytearray()
        self._raw_sink = raw_sink  # keeps the bytes as received, before decoding (evidence)
        self.full = False

    def feed(self, raw: bytes) -> None:
        room = self._cap - self._raw
        self._raw += len(raw)
        if len(raw) > room:  # compressed or not: this also bounds zlib's unused_data
            self._over(f"body larger than {human_size(self._cap)}")
            raw = raw[: max(room, 0)]
        if self._raw_sink is not None:
            self._raw_sink += raw
        self._push(raw, 0)

    def finish(self) -> bytes:
        for index, (_name, decoder) in enumerate(self._stages):
            self._push(self._flush(decoder), index + 1)
        return bytes(self._out[: self._cap])

    def _push(self, data: bytes, start: int) -> None:
        for name, decoder in self._stages[start:]:
            room = self._cap - len(self._out)
            try:
                data = decoder.decode(data, room)
            except (zlib.error, brotli.error) as e:
                raise TransportError(f"corrupt {name} body") from e
            if len(data) > room:
                self._over(f"{name} body expands past {human_size(self._cap)} (decompression bomb)")
        self._out += data
        if len(self._out) > self._cap:
            self._over(f"body larger than {human_size(self._cap)}")

    def _flush(self, decoder: _Decoder) -> bytes:
        try:
            return decoder.flush()
        except zlib.error as e:
            raise TransportError("corrupt compressed body") from e

    def _over(self, message: str) -> None:
        if not self._truncate:
            raise TooLarge(message)
        self.full = True


async def read_capped(
    response: httpx.Response,
    cap: int,
    *,
    truncate: bool = False,
    raw_sink: bytearray | None = None,
) -> bytes:
    """Read a streamed response's body, decoded, raising TooLarge past `cap` bytes.

    With `truncate`, stop quietly at `cap` instead (webhook answers). With `raw_sink`, the
    body as received (still content-encoded) is appended to it as well.
    """
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "")
    if declared.isdigit() and int(declared) > cap and not encoding and not truncate:
        raise TooLarge(f"body larger than {human_size(cap)} (Content-Length {declared})")
    body = CappedBody(encoding, cap, truncate=truncate, raw_sink=raw_sink)
    async for chunk in response.aiter_raw():
        body.feed(chunk)
        if body.full:
            break
    return body.finish()
