"""/favicon.ico answers with the site's own icon, cached, instead of a 404."""

from __future__ import annotations

import struct
import zlib

import httpx

from forum.core.favicon import ICON


async def test_favicon_is_an_icon_cached_for_a_week(client: httpx.AsyncClient) -> None:
    r = await client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/x-icon"
    assert "max-age=604800" in r.headers["cache-control"]
    assert r.content == ICON
    again = await client.get("/favicon.ico", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_icon_is_a_valid_ico_holding_a_32px_png() -> None:
    reserved, kind, count = struct.unpack("<HHH", ICON[:6])
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, _, _, _, bits, size, offset = struct.unpack("<BBBBHHII", ICON[6:22])
    assert (width, height, bits) == (32, 32, 32)
    png = ICON[offset : offset + size]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == size
    assert struct.unpack(">II", png[16:24]) == (32, 32)
    # Every chunk's checksum is right (a browser drops a corrupt image).
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        body = png[at + 4 : at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length : at + 12 + length])[0] == zlib.crc32(body)
        at += 12 + length
    assert at == len(png)


async def test_pages_point_browsers_at_the_icon(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert '<link rel="icon" href="/favicon.ico"' in page.text
