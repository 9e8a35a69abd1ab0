"""Turning a response body into something to look at: text, readable HTML, JSON, image, hex.

Runs in the worker thread after a response arrives (so the Tk thread only inserts the
result); uses the standard library's HTML and JSON parsers.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field

from netgui.net.html_text import html_segments
from netgui.net.safe_names import tolerant_local_name

TEXT_LIMIT = 512 * 1024      # characters shown in the Text and HTML views
LINE_LIMIT = 2000            # longer lines are broken for display: Tk lays out a whole
                             # logical line at once, and a 500 KB line freezes the window
HEX_LIMIT = 64 * 1024        # bytes shown in the Hex view
JSON_LIMIT = 8 * 1024 * 1024

IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def image_format(data: bytes) -> str | None:
    """PNG, JPEG, GIF, WebP or BMP from the first bytes, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if not sample:
        return False
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return control / len(sample) > 0.1


def sniff_charset(data: bytes, declared: str | None, content_type: str) -> str:
    """The charset to decode with: BOM, then the declared one, then <meta>, then UTF-8 if valid."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if declared:
        try:
            return codecs.lookup(declared).name
        except LookupError:
            pass
    if "html" in content_type or "xml" in content_type or data[:100].lstrip().startswith(b"<"):
        match = _META_CHARSET.search(data[:4096])
        if match:
            try:
                return codecs.lookup(match.group(1).decode("ascii")).name
            except LookupError:
                pass
    try:
        data[:65536].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > 65536 - 4:  # a character cut at the sample's end
            return "utf-8"
    return "cp1252"


def decode_text(data: bytes, declared: str | None = None, content_type: str = "") -> tuple[str, str]:
    """(text, charset used); undecodable bytes become U+FFFD."""
    charset = sniff_charset(data, declared, content_type)
    return data.decode(charset, errors="replace"), charset


def html_to_text(html: str, base_url: str) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]], str]:
    """(segments of (text, link URL or None), links as (text, URL), title), long lines broken.
    Links are the ones some tab opens: web pages here, ``mailto:`` in a compose window,
    ``ftp://``/``sftp://`` in FTP, ``irc://`` in Chat (the Web tab hands those over)."""
    segments, links, title = html_segments(html, base_url)
    segments = [(text, href if openable(href) else None) for text, href in segments]
    return _break_segments(segments), [link for link in links if openable(link[1])], title


LINK_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "ftps:", "ftpes:", "sftp:", "irc:", "ircs:")


def openable(href: str | None) -> bool:
    """Whether a tab of netgui opens ``href`` (not javascript:, data:, tel: …)."""
    return bool(href) and href.lower().startswith(LINK_SCHEMES)


def break_long_lines(text: str, width: int = LINE_LIMIT) -> tuple[str, bool]:
    """(text with lines over ``width`` characters broken, whether any was broken)."""
    if len(text) <= width or all(len(line) <= width for line in text.split("\n")):
        return text, False
    out = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind(" ", width // 2, width) + 1 or width
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return "\n".join(out), True


def _break_segments(segments, width: int = LINE_LIMIT):
    """The same for (text, link) segments, counting the column across segments."""
    out, column = [], 0
    for text, href in segments:
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                out.append(("\n", None))
                column = 0
            while column + len(piece) > width:
                room = max(1, width - column)
                out.append((piece[:room], href))
                out.append(("\n", None))
                piece, column = piece[room:], 0
            if piece:
                out.append((piece, href))
                column += len(piece)
    return out


def hex_dump(data: bytes, limit: int = HEX_LIMIT) -> str:
    """Offset, 16 hex bytes and their printable characters per line."""
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        row = data[offset:offset + 16]
        hexes = " ".join(f"{b:02x}" for b in row)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset:08x}  {hexes[:23]:<23}  {hexes[24:]:<23}  {text}")
    return "\n".join(lines)


@dataclass
class Rendered:
    """Everything the body views need, prepared off the Tk thread."""

    kind: str                      # the best view: text, html, json, image, hex
    text: str = ""
    text_cut: bool = False
    lines_broken: bool = False
    charset: str = ""
    html_segments: list = field(default_factory=list)
    links: list = field(default_factory=list)
    title: str = ""
    json_value: object = None
    json_error: str = ""
    image: str | None = None       # image format if the body is an image
    hex: str = ""


def _pretty_json(value, limit: int = TEXT_LIMIT) -> tuple[str, bool]:
    """The first ``limit`` characters of ``value`` as indented JSON, and whether it was cut.

    Encoding piece by piece stops early on big documents (and, unlike one json.dumps call,
    lets the Tk thread run in between).
    """
    pieces, size = [], 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(value):
        pieces.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(pieces)[:limit], True
    return "".join(pieces), False


def render(body: bytes, content_type: str, declared_charset: str | None, url: str,
           complete: bool = True) -> Rendered:
    """Prepare ``body`` (the first part of a response body) for each view."""
    image = image_format(body)
    binary = image is not None or looks_binary(body)
    out = Rendered(kind="text", image=image, hex=hex_dump(body))
    if binary:
        out.kind = "image" if image else "hex"
        out.text = "(binary content: see the Hex view)"
        return out
    text, out.charset = decode_text(body, declared_charset, content_type)
    out.text_cut = len(text) > TEXT_LIMIT
    out.text, out.lines_broken = break_long_lines(text[:TEXT_LIMIT])
    is_json = "json" in content_type or text.lstrip()[:1] in ("{", "[") and content_type in (
        "", "text/plain", "application/octet-stream")
    if is_json:
        if not complete:
            out.json_error = "Only the first part of the body is here: the JSON tree needs all of it."
        elif len(text) > JSON_LIMIT:
            out.json_error = "The JSON document is too large to show as a tree."
        else:
            try:
                out.json_value = json.loads(text)
                out.kind = "json"
                pretty, out.text_cut = _pretty_json(out.json_value)
                out.text, out.lines_broken = break_long_lines(pretty)
            except ValueError as exc:
                out.json_error = f"Not valid JSON: {exc}"
    if "html" in content_type or (not content_type and text.lstrip()[:15].lower().startswith(
            ("<!doctype html", "<html"))):
        out.html_segments, out.links, out.title = html_to_text(text[:TEXT_LIMIT * 4], url)
        out.kind = "html"
    return out




def suggested_filename(url: str, content_disposition: str | None, content_type: str = "") -> str:
    """What to call a saved body: Content-Disposition's filename, else the URL's last part."""
    if content_disposition:
        from email.message import Message
        msg = Message()
        msg["Content-Disposition"] = content_disposition
        name = msg.get_filename()
        if name:
            return tolerant_local_name(name, "download")
    from urllib.parse import unquote, urlsplit
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if last:
        return tolerant_local_name(last, "download")
    ext = {"text/html": ".html", "application/json": ".json", "text/plain": ".txt",
           "image/png": ".png", "image/jpeg": ".jpg"}.get(content_type, "")
    return "download" + ext
