"""Reading mail: headers for the list, the text to show, attachments to save.

Everything here works on bytes from the network and trusts none of it:
RFC 2047 headers and any charset are decoded (unknown charsets fall back
instead of failing), HTML becomes plain text with nothing fetched, and
attachment names are reduced to safe base names before they touch the disk.
"""

from __future__ import annotations

import datetime
import email
import email.header
import email.utils
import functools
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path

from netgui.net.html_text import html_to_text
from netgui.net.safe_names import tolerant_local_name

# -- headers -------------------------------------------------------------------------

def decode_header_value(value) -> str:
    """Any header value (RFC 2047 words, raw 8-bit, odd charsets) as clean one-line text."""
    if value is None:
        return ""
    if isinstance(value, str) and "=?" not in value and value.isprintable():
        return value.strip()  # the common case: plain text, nothing to decode
    if isinstance(value, email.header.Header):
        parts = email.header.decode_header(value)
    else:
        text = str(value)
        if any("\udc80" <= ch <= "\udcff" for ch in text):  # raw 8-bit bytes in the header
            raw = text.encode("ascii", "surrogateescape")
            text = _decode_bytes(raw, None)
        try:
            parts = email.header.decode_header(text)
        except Exception:
            parts = [(text, None)]
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    # decode_header drops whitespace between encoded and plain words inconsistently; join sanely
    result = ""
    for i, piece in enumerate(out):
        if i and parts[i - 1][1] is None and parts[i][1] is not None and not result.endswith(" "):
            result += " "
        elif i and parts[i - 1][1] is not None and parts[i][1] is None and piece and not piece[0].isspace():
            result += " "
        result += piece
    return _one_line(result)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    for cs in (charset, "utf-8"):
        if not cs or cs == "unknown-8bit":
            continue
        try:
            return data.decode(cs)
        except (LookupError, UnicodeError):
            continue
    return data.decode("cp1252", "replace")


def _one_line(text: str) -> str:
    text = re.sub(r"[\r\n\t]+", " ", text)
    return "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()


def decode_address_list(value) -> str:
    """A From/To header as "Name <addr>, …" with names decoded."""
    text = decode_header_value(value)
    pairs = email.utils.getaddresses([text])
    shown = []
    for name, addr in pairs:
        if not name and not addr:
            continue
        shown.append(f"{name} <{addr}>" if name and addr else (name or addr))
    return ", ".join(shown) or text


_SIMPLE_ADDRESS = re.compile(r'^\s*([^"<>,()\\]*?)\s*<([^<>\s,]+)>\s*$')


def short_address(value) -> str:
    """The name (or address) of the first sender, for the list."""
    text = decode_header_value(value)
    simple = _SIMPLE_ADDRESS.match(text)
    if simple:
        return simple.group(1) or simple.group(2)
    if not any(ch in text for ch in '<>,"()\\'):
        return text.strip()
    pairs = email.utils.getaddresses([text])
    for name, addr in pairs:
        if name or addr:
            return name or addr
    return text


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
# The form nearly every mailer writes: "Tue, 3 Nov 2026 19:30:14 +0100" (comment allowed)
_PLAIN_DATE = re.compile(r"\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+"
                         r"(\d{1,2}):(\d\d)(?::(\d\d))?\s*([+-])(\d\d)(\d\d)\s*(?:\([^()]*\))?\s*$")
_EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=4096)  # many messages share a day
def _days_since_epoch(year: str, month: str, day: str) -> int | None:
    try:
        return datetime.date(int(year), _MONTHS[month], int(day)).toordinal() - _EPOCH_DAY
    except (KeyError, ValueError):
        return None


def parse_date(value) -> float | None:
    """A Date header as a POSIX timestamp, or None."""
    if not value:
        return None
    plain = _PLAIN_DATE.match(value) if isinstance(value, str) else None
    if plain:  # the hot path when listing thousands of messages; same result as below
        day, mon, year, hour, minute, sec, sign, zh, zm = plain.groups()
        days = _days_since_epoch(year, mon.lower(), day)
        if days is not None:
            offset = int(zh) * 3600 + int(zm) * 60
            return float(days * 86400 + int(hour) * 3600 + int(minute) * 60
                         + int(sec or 0) - (offset if sign == "+" else -offset))
    try:
        parts = email.utils.parsedate_tz(str(value))
        return float(email.utils.mktime_tz(parts)) if parts else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class Summary:
    """The fields the message list shows, from header bytes alone."""

    sender: str
    to: str
    subject: str
    date: float | None
    message_id: str
    attachment: bool


_UNFOLD = re.compile(r"\r?\n[ \t]+")
_LIST_FIELD = re.compile(r"^(from|to|subject|date|message-id|content-type)[ \t]*:(.*)", re.I | re.M)


def _header_text(raw: bytes) -> str:
    """The header block (up to the first blank line) as text, unfolded."""
    ends = [i for i in (raw.find(b"\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    if ends:
        raw = raw[:min(ends) + 1]
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:  # 8-bit bytes: each line as UTF-8 if it is, else a Windows charset
        text = "\n".join(_decode_bytes(line, None) for line in raw.split(b"\n"))
    return _UNFOLD.sub(" ", text) if "\n " in text or "\n\t" in text else text


def header_fields(header_bytes: bytes) -> dict[str, str]:
    """The list's fields (lower-case names) from raw header bytes: unfolded, first occurrence,
    undecoded text.

    Only this split is done by hand (it is the hot path when listing 10,000
    messages); the values are decoded with the email package's own functions.
    """
    fields: dict[str, str] = {}
    for name, value in _LIST_FIELD.findall(_header_text(header_bytes)):
        key = name.lower()
        if key not in fields:
            fields[key] = value.strip()
    return fields


_KEY_FIELD = re.compile(rb"^(date|content-type)[ \t]*:(.*)", re.I | re.M)


def list_keys(header_bytes: bytes) -> tuple[float | None, bool]:
    """The date and attachment mark from raw header bytes: what a message list needs of
    every message before it can show any (the rest can be decoded when a row is shown)."""
    crlf, lf = header_bytes.find(b"\n\r\n"), header_bytes.find(b"\n\n")
    end = crlf if lf < 0 or 0 <= crlf < lf else lf
    date = ctype = None
    for name, value in _KEY_FIELD.findall(header_bytes[:end + 1] if end >= 0 else header_bytes):
        if name[0] in b"dD":
            if date is None:
                date = value
        elif ctype is None:
            ctype = value
    when = parse_date(date.decode("ascii", "replace")) if date else None
    if when is None and date:  # folded or 8-bit: the careful path
        when = parse_date(header_fields(header_bytes).get("date"))
    if ctype is None:
        return when, False
    kind = ctype.lstrip().lower()
    return when, kind.startswith(b"multipart/mixed") or kind.startswith(b"application/")


def summarize(header_bytes: bytes) -> Summary:
    """List fields from raw header bytes (fast: no full MIME parse)."""
    f = header_fields(header_bytes)
    ctype = f.get("content-type", "").lower()
    return Summary(
        sender=short_address(f.get("from")),
        to=short_address(f.get("to")),
        subject=decode_header_value(f.get("subject")),
        date=parse_date(f.get("date")),
        message_id=f.get("message-id", ""),
        attachment=ctype.startswith("multipart/mixed") or ctype.startswith("application/"),
    )


# -- bodies ----------------------------------------------------------------------------

@dataclass
class Attachment:
    """One attachment: its (untrusted) name, the safe local name, type and decoded size."""

    index: int
    name: str
    safe_name: str
    content_type: str
    size: int
    part: Message = field(repr=False)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    def data(self) -> bytes:
        payload = self.part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""


@dataclass
class ParsedMessage:
    """A message ready to show: decoded headers, the text, attachments and the raw source."""

    sender: str
    to: str
    cc: str
    subject: str
    date: float | None
    date_text: str
    message_id: str
    text: str
    from_html: bool
    attachments: list[Attachment]
    raw: bytes
    message: EmailMessage = field(repr=False)

    def source(self) -> str:
        """The raw source as text (undecodable bytes shown as replacement characters)."""
        return self.raw.decode("utf-8", "replace") if self.raw else ""


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse a whole message with ``policy.default``; never raises on bad input."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    text, from_html = _best_text(msg)
    attachments = list_attachments(msg)
    date_header = msg.get("Date", "")
    return ParsedMessage(
        sender=_safe_header(msg, "From", address=True),
        to=_safe_header(msg, "To", address=True),
        cc=_safe_header(msg, "Cc", address=True),
        subject=_safe_header(msg, "Subject"),
        date=parse_date(_raw_header(msg, "Date")),
        date_text=_one_line(str(date_header)) if date_header else "",
        message_id=_one_line(str(msg.get("Message-ID", ""))),
        text=text,
        from_html=from_html,
        attachments=attachments,
        raw=raw,
        message=msg,
    )


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg._headers:  # the undecoded source text, as compat32 would give it
        if key.lower() == name.lower():
            return value
    return ""


def _safe_header(msg: Message, name: str, address: bool = False) -> str:
    raw = _raw_header(msg, name)
    if not raw:
        return ""
    return decode_address_list(raw) if address else decode_header_value(raw)


def part_text(part: Message) -> str:
    """A text part's content decoded with its charset (falls back, never raises)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = part.get_content_charset()
    text = _decode_bytes(payload, charset)
    return text.replace("\r\n", "\n")


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    if part.get_filename():
        return disposition != "inline" or not part.get_content_type().startswith("text/")
    return not part.get_content_maintype() in ("text", "multipart", "message")


def _best_text(msg: Message) -> tuple[str, bool]:
    plain = html_part = None
    for part in msg.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html_part is None:
            html_part = part
    if plain is not None:
        return part_text(plain), False
    if html_part is not None:
        return html_to_text(part_text(html_part)), True
    if not msg.is_multipart() and msg.get_content_maintype() == "text":
        return part_text(msg), False
    return "", False


def list_attachments(msg: Message) -> list[Attachment]:
    """Every attachment with its decoded size and a safe local name."""
    found = []
    used: set[str] = set()
    for part in msg.walk():
        if not _is_attachment(part):
            continue
        try:
            name = part.get_filename() or ""
        except Exception:
            name = ""
        name = decode_header_value(name) if name else ""
        ctype = part.get_content_type()
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        safe = tolerant_local_name(name or f"attachment-{len(found) + 1}{_ext_for(ctype)}", "attachment")
        base, ext = os.path.splitext(safe)
        n = 1
        while safe.lower() in used:
            n += 1
            safe = f"{base} ({n}){ext}"
        used.add(safe.lower())
        found.append(Attachment(len(found), name or safe, safe, ctype, size, part))
    return found


def _ext_for(ctype: str) -> str:
    import mimetypes
    return mimetypes.guess_extension(ctype) or ".bin"


def save_attachment(attachment: Attachment, folder, name: str | None = None) -> Path:
    """Write the attachment into ``folder`` under its safe name (never overwriting a file).

    Written to ``<name>.part`` first and renamed when complete.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    safe = tolerant_local_name(name or attachment.safe_name, "attachment")
    base, ext = os.path.splitext(safe)
    target = folder / safe
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{base} ({n}){ext}"
    if target.resolve().parent != folder.resolve():
        raise ValueError("unsafe attachment name")
    partial = target.with_name(target.name + ".part")
    with open(partial, "wb") as f:
        f.write(attachment.data())
    os.replace(partial, target)
    return target
