"""IRC messages: parsing and serialising lines per RFC 1459/2812 with IRCv3 message tags.

A line looks like ``[@tags] [:prefix] COMMAND [params...] [:trailing]``. This module also
holds the small text helpers an IRC client needs: CTCP framing and splitting long text on
UTF-8 boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netgui.net.errors import ProtocolError

MAX_LINE_BYTES = 512
"""RFC 1459: a line, CR LF included, is at most 512 bytes (tags not counted)."""

CTCP_DELIM = "\x01"

_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPE = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


def unescape_tag_value(value: str) -> str:
    """Undo IRCv3 tag-value escaping (an unknown escape keeps its character, a lone ``\\`` is dropped)."""
    if "\\" not in value:
        return value
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            if i + 1 < len(value):
                nxt = value[i + 1]
                out.append(_TAG_UNESCAPE.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """Escape a tag value for the wire."""
    return "".join(_TAG_ESCAPE.get(ch, ch) for ch in value)


def parse_tags(text: str) -> dict[str, str | None]:
    """``a=1;b;c=x\\sy`` → ``{"a": "1", "b": None, "c": "x y"}``; a later duplicate key wins."""
    tags: dict[str, str | None] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        tags[key] = unescape_tag_value(value) if sep and value else None
    return tags


def format_tags(tags: dict[str, str | None]) -> str:
    return ";".join(key if value in (None, "") else f"{key}={escape_tag_value(value)}"
                    for key, value in tags.items())


@dataclass(frozen=True)
class Prefix:
    """The source of a message: ``nick!user@host`` or a server name."""

    nick: str
    user: str | None = None
    host: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Prefix":
        nick, _, host = text.partition("@")
        nick, _, user = nick.partition("!")
        return cls(nick, user or None, host or None)

    def __str__(self) -> str:
        out = self.nick
        if self.user:
            out += "!" + self.user
        if self.host:
            out += "@" + self.host
        return out


@dataclass
class Message:
    """One IRC message. ``params`` holds every parameter, the trailing one included."""

    command: str
    params: list[str] = field(default_factory=list)
    prefix: str | None = None
    tags: dict[str, str | None] = field(default_factory=dict)

    @property
    def source(self) -> Prefix | None:
        return Prefix.parse(self.prefix) if self.prefix else None

    @property
    def nick(self) -> str | None:
        """The nick (or server name) the message came from."""
        return self.source.nick if self.prefix else None

    def param(self, index: int, default: str = "") -> str:
        return self.params[index] if -len(self.params) <= index < len(self.params) else default

    @property
    def is_numeric(self) -> bool:
        return len(self.command) == 3 and self.command.isdigit()

    def to_line(self) -> str:
        """The wire form without CR LF."""
        return serialise(self)

    def __str__(self) -> str:
        return self.to_line()


def parse(line: str) -> Message:
    """Parse one line (with or without CR LF). Raises ProtocolError for an empty or command-less line."""
    line = line.rstrip("\r\n")
    rest = line.lstrip(" ")
    tags: dict[str, str | None] = {}
    prefix = None
    if rest.startswith("@"):
        raw, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        if not prefix:
            raise ProtocolError("IRC line has an empty prefix", detail=repr(line))
    trailing = None
    if " :" in rest:
        rest, trailing = rest.split(" :", 1)
    elif rest.startswith(":"):
        # a command cannot start with ':'; this is a line with only a trailing part
        raise ProtocolError("IRC line has no command", detail=repr(line))
    words = [w for w in rest.split(" ") if w]
    if not words:
        raise ProtocolError("IRC line has no command", detail=repr(line))
    command, params = words[0].upper(), words[1:]
    if not (command.isalpha() or (len(command) == 3 and command.isdigit())):
        raise ProtocolError(f"IRC line has a bad command {command[:20]!r}", detail=repr(line))
    if trailing is not None:
        params.append(trailing)
    return Message(command, params, prefix, tags)


def serialise(msg: Message) -> str:
    """The wire form of ``msg`` (no CR LF). The last parameter gets a ``:`` when it needs one."""
    parts = []
    if msg.tags:
        parts.append("@" + format_tags(msg.tags))
    if msg.prefix:
        parts.append(":" + msg.prefix)
    parts.append(msg.command)
    for i, param in enumerate(msg.params):
        if any(ch in param for ch in "\r\n\0"):
            raise ValueError("IRC parameters cannot hold CR, LF or NUL")
        last = i == len(msg.params) - 1
        if not last and (not param or " " in param or param.startswith(":")):
            raise ValueError(f"only the last IRC parameter may be empty or hold spaces: {param!r}")
        if last and (not param or " " in param or param.startswith(":")):
            param = ":" + param
        parts.append(param)
    return " ".join(parts)


def make(command: str, *params: str, prefix: str | None = None, tags=None) -> Message:
    return Message(command.upper(), list(params), prefix, dict(tags or {}))


# --- CTCP -------------------------------------------------------------------------------------

def ctcp_parse(text: str) -> tuple[str, str] | None:
    """``"\\x01ACTION waves\\x01"`` → ``("ACTION", "waves")``; None when ``text`` is not CTCP."""
    if len(text) < 2 or not text.startswith(CTCP_DELIM):
        return None
    body = text[1:-1] if text.endswith(CTCP_DELIM) else text[1:]  # some clients drop the closing ^A
    command, _, arg = body.partition(" ")
    if not command:
        return None
    return command.upper(), arg


def ctcp(command: str, arg: str = "") -> str:
    """Frame a CTCP request or reply."""
    return f"{CTCP_DELIM}{command.upper()}{' ' + arg if arg else ''}{CTCP_DELIM}"


# --- text -------------------------------------------------------------------------------------


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes each.

    Never cuts inside a character; prefers to cut after a space when one is in the
    second half of a piece. Empty text gives one empty piece.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must leave room for one character")
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return [text]
    pieces = []
    while len(data) > max_bytes:
        cut = max_bytes
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # inside a multi-byte character
            cut -= 1
        space = data.rfind(b" ", 0, cut)
        if space >= max_bytes // 2:
            pieces.append(data[:space].decode("utf-8"))
            data = data[space + 1:]
        else:
            pieces.append(data[:cut].decode("utf-8"))
            data = data[cut:]
    if data:
        pieces.append(data.decode("utf-8"))
    return pieces


def parse_isupport_prefix(value: str) -> list[tuple[str, str]]:
    """ISUPPORT ``PREFIX=(qaohv)~&@%+`` → ``[("q","~"), ("a","&"), ("o","@"), ("h","%"), ("v","+")]``."""
    m = re.fullmatch(r"\(([^)]*)\)(.*)", value or "")
    if not m or len(m.group(1)) != len(m.group(2)):
        return [("o", "@"), ("v", "+")]
    return list(zip(m.group(1), m.group(2)))


def casefold(name: str) -> str:
    """RFC 1459 case mapping: ``{}|^`` are the lower case of ``[]\\~``."""
    return name.lower().translate(_RFC1459)


_RFC1459 = str.maketrans("[]\\~", "{}|^")
