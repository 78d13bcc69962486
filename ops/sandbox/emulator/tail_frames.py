"""Accept wrangler's unmasked first frame, as Cloudflare's tail server does.

wrangler sends its ``{"debug": …}`` message with ``mask: false`` (workers-sdk@f8308360
packages/wrangler/src/tail/createTail.ts, and 4.86 alike). RFC 6455 section 5.1 says
a server must close a connection whose client sends an unmasked frame, and
``websockets`` does ("incorrect masking"); Cloudflare's tail server accepts it. So the
emulator masks such frames with the zero key, which leaves the payload as it is,
before ``websockets`` parses them (``ZeroMask``, fed by ``TolerantConnection``).
"""

from __future__ import annotations

from typing import Any

from websockets.protocol import State
from websockets.sync.server import ServerConnection

MASK_BIT = 0x80


class ZeroMask:
    """A byte filter over a stream of client frames: an unmasked frame gets the mask bit and a zero key."""

    def __init__(self) -> None:
        self._header = bytearray()
        self._payload_left = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        at = 0
        while at < len(data):
            if self._payload_left:
                take = min(self._payload_left, len(data) - at)
                out += data[at:at + take]
                at, self._payload_left = at + take, self._payload_left - take
                continue
            self._header.append(data[at])
            at += 1
            size = _header_size(self._header)
            if size is not None and len(self._header) == size:
                out += self._header if self._header[1] & MASK_BIT else _with_zero_key(self._header)
                self._payload_left = _payload_length(self._header)
                self._header = bytearray()
        return bytes(out)


def _header_size(header: bytearray) -> int | None:
    if len(header) < 2:
        return None
    short = header[1] & 0x7F
    return 2 + {126: 2, 127: 8}.get(short, 0) + (4 if header[1] & MASK_BIT else 0)


def _payload_length(header: bytearray) -> int:
    short = header[1] & 0x7F
    if short == 126:
        return int.from_bytes(header[2:4], "big")
    if short == 127:
        return int.from_bytes(header[2:10], "big")
    return short


def _with_zero_key(header: bytearray) -> bytes:
    return bytes([header[0], header[1] | MASK_BIT]) + bytes(header[2:]) + b"\x00\x00\x00\x00"


class TolerantConnection(ServerConnection):
    """A server connection whose frames pass through ``ZeroMask`` once the handshake is done."""

    def __init__(self, sock: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
        zero = ZeroMask()
        receive = protocol.receive_data

        def receive_data(data: bytes) -> None:
            receive(data if protocol.state is State.CONNECTING else zero.feed(data))

        protocol.receive_data = receive_data
        super().__init__(sock, protocol, *args, **kwargs)
