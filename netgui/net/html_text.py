"""Readable text from HTML, with the standard library's lenient parser; nothing is ever fetched.

One converter serves the Web tab (text segments that keep their link, for clickable links),
the mail viewer (text with links as ``text <url>``) and quoting in replies.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table",
         "section", "article", "header", "footer", "nav", "pre", "blockquote", "hr", "dt", "dd",
         "form"}
SKIP = {"script", "style", "noscript", "template", "head", "svg"}
_KEEP = "\x00"  # a space inside <pre>, kept through whitespace folding


class _Collector(HTMLParser):
    """Collects (text, link URL or None) segments, the links and the title."""

    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.segments: list[tuple[str, str | None]] = []
        self.links: list[tuple[str, str]] = []
        self.title = ""
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in SKIP:
            self._skip += 1
        elif self._skip:
            return
        if tag in BLOCK:
            self._newline()
        if tag == "li":
            self.segments.append(("• ", None))
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th"):
            self.segments.append(("\t", None))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.segments.append((f"[{alt}]", self._href))
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            if href and not href.lower().startswith(("javascript:", "#")):
                self._href = urljoin(self.base_url, href) if self.base_url else href
                self._link_text = []

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
            return
        if tag in SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag == "a" and self._href:
            self.links.append(("".join(self._link_text).strip() or self._href, self._href))
            self._href = None
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in BLOCK:
            self._newline()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
            return
        if self._skip:
            return
        if self._pre:
            text = data.replace(" ", _KEEP)
        else:
            text = re.sub(r"\s+", " ", data)
            if not text.strip() and (not self.segments or self.segments[-1][0].endswith(("\n", " "))):
                return
        self.segments.append((text, self._href))
        if self._href:
            self._link_text.append(text)

    def _newline(self):
        if self.segments and not self.segments[-1][0].endswith("\n"):
            self.segments.append(("\n", None))


def _collect(markup: str, base_url: str) -> _Collector:
    parser = _Collector(base_url)
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; what was parsed so far is shown
        pass
    return parser


def html_segments(markup: str, base_url: str = ""
                  ) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]], str]:
    """(segments of (text, link URL or None), links as (text, URL), title); relative links are
    resolved against ``base_url``. No line starts with spaces and blank lines do not pile up."""
    parser = _collect(markup, base_url)
    segments: list[tuple[str, str | None]] = []
    for text, href in parser.segments:
        if segments and segments[-1][0].endswith("\n"):
            text = text.lstrip(" ")
            if not text:
                continue
        segments.append((text.replace(_KEEP, " "), href))
    return segments, parser.links, re.sub(r"\s+", " ", parser.title).strip()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: web links written as ``text <url>``, ``<pre>`` kept as it is,
    at most one blank line in a row."""
    parser = _collect(markup, "")
    out: list[str] = []
    for index, (text, href) in enumerate(parser.segments):
        out.append(text)
        ends_link = href and (index + 1 == len(parser.segments) or parser.segments[index + 1][1] != href)
        if ends_link and href.lower().startswith(("http:", "https:", "mailto:")):
            out.append(f" <{href}>")
    lines = (line.strip() for line in "".join(out).splitlines())
    text = "\n".join(lines).replace(_KEEP, " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
