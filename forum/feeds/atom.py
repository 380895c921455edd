"""Atom (RFC 4287) documents written with the standard library's ElementTree, which escapes
every text and attribute: titles, names and post bodies are members' text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str
    author: str
    published: datetime
    updated: datetime
    html: str  # sanitised HTML (posts are stored sanitised), sent as escaped text


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Characters XML 1.0 does not allow at all (ElementTree would write them, and readers refuse
# the whole document).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = NOT_XML.sub("\ufffd", text)
    return element


def atom_feed(
    feed_id: str, title: str, self_url: str, page_url: str, updated: datetime, entries: list[Entry]
) -> bytes:
    """The feed as UTF-8 bytes. `updated` is used when there are no entries."""
    feed = ET.Element("feed", {"xmlns": ATOM})
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    newest = max((entry.updated for entry in entries), default=updated)
    _text(feed, "updated", _stamp(newest))
    ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": self_url})
    ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": page_url})
    _text(feed, "generator", "Candor")
    for entry in entries:
        item = ET.SubElement(feed, "entry")
        _text(item, "id", entry.id)
        _text(item, "title", entry.title)
        ET.SubElement(item, "link", {"rel": "alternate", "type": "text/html", "href": entry.link})
        author = ET.SubElement(item, "author")
        _text(author, "name", entry.author)
        _text(item, "published", _stamp(entry.published))
        _text(item, "updated", _stamp(entry.updated))
        _text(item, "content", entry.html, type="html")
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
