"""The site's icon, /favicon.ico: drawn here at start-up (a white ring, open on the right like
a "C", on the brand's teal rounded square), 32x32, as a PNG inside an ICO file. Browsers ask
for it on every first visit; it is served with a week's cache and an ETag."""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SIZE = 32
BRAND = (0x0B, 0x5C, 0x7A)
WHITE = (0xFF, 0xFF, 0xFF)


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """The colour at pixel (x, y): transparent outside the rounded square."""
    cx = cy = (SIZE - 1) / 2
    corner = 6.0
    dx = max(abs(x - cx) - (cx - corner), 0.0)
    dy = max(abs(y - cy) - (cy - corner), 0.0)
    if math.hypot(dx, dy) > corner:
        return (0, 0, 0, 0)
    r = math.hypot(x - cx, y - cy)
    angle = math.degrees(math.atan2(y - cy, x - cx))
    if 6.5 <= r <= 11.5 and abs(angle) > 40:  # the ring, with its gap toward the right
        return (*WHITE, 255)
    return (*BRAND, 255)


def _png() -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y)) for x in range(SIZE)) for y in range(SIZE)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def make_icon() -> bytes:
    """An ICO file holding one 32x32 PNG image."""
    png = _png()
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png


ICON = make_icon()
ETAG = '"' + hashlib.sha256(ICON).hexdigest()[:16] + '"'
HEADERS = {"cache-control": "public, max-age=604800", "etag": ETAG}


async def favicon(request: Request) -> Response:
    if ETAG in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=HEADERS)
    return Response(ICON, media_type="image/x-icon", headers=HEADERS)


routes = [Route("/favicon.ico", favicon, methods=["GET"], name="favicon")]
