"""Composing mail: address parsing and checks, building MIME messages, reply and forward.

Messages are ``email.message.EmailMessage`` objects in UTF-8 throughout. Every
header value the user types is checked: a newline (or any other control
character) is refused, so nobody can inject headers. Address fields take
several addresses separated by commas; each one is parsed with
``email.utils.getaddresses`` and then checked on its own.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import uuid
from dataclasses import dataclass, field
from email import policy as email_policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, localtime, make_msgid, parseaddr

from netgui import __version__
from netgui.net.html_text import html_to_text
from netgui.net.safe_names import tolerant_local_name

POLICY = email_policy.SMTP.clone(cte_type="7bit")  # 7-bit clean: any server, any IMAP folder
ADDRESS_FIELDS = ("to", "cc", "bcc")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LOCAL = re.compile(r"^(?:[^\s@<>()\[\],;:\\\".]+(?:\.[^\s@<>()\[\],;:\\\".]+)*|\"[^\"\\\r\n]+\")$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.I)
_FWD_PREFIX = re.compile(r"^\s*(fwd?|wg|tr)\s*:", re.I)


class ComposeError(ValueError):
    """Bad input in a compose field: ``str()`` is one line for the user."""


@dataclass
class Attachment:
    """A file attached to a message, held in memory."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> "Attachment":
        path = os.fspath(path)
        with open(path, "rb") as f:
            data = f.read()
        kind, encoding = mimetypes.guess_type(path)
        if kind is None or encoding is not None:  # .tar.gz is a gzip file, not a tar
            kind = "application/gzip" if encoding == "gzip" else "application/octet-stream"
        return cls(tolerant_local_name(os.path.basename(path), "attachment"), data, kind)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Draft:
    """Everything the compose window holds; ``id`` names it in the local stores."""

    account: str = ""
    sender: str = ""
    to: str = ""
    cc: str = ""
    bcc: str = ""
    subject: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    in_reply_to: str = ""
    references: str = ""
    message_id: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def is_empty(self) -> bool:
        return not any((self.to.strip(), self.cc.strip(), self.bcc.strip(), self.subject.strip(),
                        self.body.strip(), self.attachments))


# -- checks ----------------------------------------------------------------
def check_header(label: str, value: str) -> str:
    """Return ``value`` if it is safe for a header; refuse newlines and control characters."""
    if _CONTROL.search(value or ""):
        raise ComposeError(f"{label} must be one line: line breaks and control characters "
                           "are not allowed")
    return value


def _idna_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ComposeError(f"{domain!r} is not a valid domain name") from exc


def check_address(addr: str, label: str = "Address") -> str:
    """Return the normalised address (IDNA domain) or raise ComposeError."""
    if addr.count("@") < 1:
        raise ComposeError(f"{label}: {addr!r} is not an email address (no @)")
    local, _, domain = addr.rpartition("@")
    if not local or not _LOCAL.match(local) or len(local) > 64:
        raise ComposeError(f"{label}: {addr!r} is not a valid email address")
    if domain.startswith("[") and domain.endswith("]"):
        return addr  # an address literal, like user@[192.0.2.1]
    domain = _idna_domain(domain.rstrip("."))
    labels = domain.split(".")
    if not domain or len(domain) > 253 or not all(_LABEL.match(x) for x in labels):
        raise ComposeError(f"{label}: {addr!r} has an invalid domain")
    return f"{local}@{domain}"


def parse_addresses(text: str, label: str = "To") -> list[tuple[str, str]]:
    """Parse a field of comma-separated addresses into (display name, address) pairs.

    Empty entries are ignored; anything that is not a valid address raises
    ComposeError naming the field and the bad entry.
    """
    check_header(label, text or "")
    if not (text or "").strip():
        return []
    if text.count('"') % 2:
        raise ComposeError(f"{label}: a quote is not closed")
    bare = re.sub(r'"[^"]*"', "", text)
    for opening, closing in ("<>", "()"):
        depth = 0
        for ch in bare:
            depth += (ch == opening) - (ch == closing)
            if depth < 0 or depth > 1:
                break
        if depth != 0:
            raise ComposeError(f"{label}: unbalanced {opening}{closing} in {text.strip()!r}")
    result = []
    for name, addr in getaddresses([text]):
        if not name and not addr:
            continue
        if not addr:
            raise ComposeError(f"{label}: {name!r} is not an email address")
        result.append((name, check_address(addr, label)))
    if not result and text.strip(" ,;"):
        raise ComposeError(f"{label}: cannot read {text.strip()!r} as email addresses")
    # getaddresses silently merges or drops malformed parts; insist that each '@'
    # outside quotes belongs to one parsed address
    unquoted = re.sub(r"\([^()]*\)", "", bare)
    if unquoted.count("@") != sum(a.count("@") for _, a in result):
        raise ComposeError(f"{label}: cannot read {text.strip()!r}; separate addresses with commas")
    return result


def format_address(name: str, addr: str) -> str:
    """``Name <addr>`` (or just ``addr``), for showing in a field."""
    if not name:
        return addr
    if re.search(r'[,;:<>()\[\]@"\\]', name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


def sender_for(profile: dict) -> str:
    """The From field for an account profile."""
    return format_address(profile.get("display_name", "") or "", profile.get("email", "") or "")


def _addresses(pairs: list[tuple[str, str]]) -> list[Address]:
    out = []
    for name, addr in pairs:
        local, _, domain = addr.rpartition("@")
        out.append(Address(display_name=name, username=local.strip('"') if local.startswith('"')
                           else local, domain=domain))
    return out


def _check_msgids(label: str, value: str) -> str:
    check_header(label, value)
    return " ".join(value.split())


def validate(draft: Draft) -> list[str]:
    """Problems with a draft that is about to be sent (empty list: fine)."""
    problems = []
    try:
        senders = parse_addresses(draft.sender, "From")
        if len(senders) != 1:
            problems.append("From must be exactly one address (set up the account's email)")
    except ComposeError as exc:
        problems.append(str(exc))
    total = 0
    for name in ADDRESS_FIELDS:
        try:
            total += len(parse_addresses(getattr(draft, name), name.capitalize()))
        except ComposeError as exc:
            problems.append(str(exc))
    if total == 0 and not any("To" in p or "Cc" in p or "Bcc" in p for p in problems):
        problems.append("Add at least one recipient")
    try:
        check_header("Subject", draft.subject)
    except ComposeError as exc:
        problems.append(str(exc))
    return problems


# -- building ----------------------------------------------------------------
def build_message(draft: Draft, *, include_bcc: bool = True, date=None) -> EmailMessage:
    """The MIME message for ``draft`` (assigns ``draft.message_id`` the first time).

    Raises ComposeError for any bad field. ``include_bcc`` keeps the Bcc header
    (for the local copy); ``wire_bytes`` removes it before sending.
    """
    msg = EmailMessage(policy=POLICY)
    senders = parse_addresses(draft.sender, "From")
    if len(senders) != 1:
        raise ComposeError("From must be exactly one address")
    msg["From"] = _addresses(senders)
    for name in ADDRESS_FIELDS:
        if name == "bcc" and not include_bcc:
            continue
        pairs = parse_addresses(getattr(draft, name), name.capitalize())
        if pairs:
            msg[name.capitalize()] = _addresses(pairs)
    msg["Subject"] = check_header("Subject", draft.subject)
    msg["Date"] = format_datetime(date or localtime())
    if not draft.message_id:
        domain = senders[0][1].rpartition("@")[2] or "netgui.invalid"
        draft.message_id = make_msgid(domain=domain)
    msg["Message-ID"] = _check_msgids("Message-ID", draft.message_id)
    if draft.in_reply_to.strip():
        msg["In-Reply-To"] = _check_msgids("In-Reply-To", draft.in_reply_to)
    if draft.references.strip():
        msg["References"] = _check_msgids("References", draft.references)
    msg["User-Agent"] = f"netgui/{__version__}"
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    msg.set_content(body, charset="utf-8")
    for att in draft.attachments:
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        if maintype in ("message", "multipart"):
            # sent as opaque bytes: base64 is not allowed for message/* parts
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=tolerant_local_name(att.filename, "attachment"))
    if msg.is_multipart():
        # a random boundary cannot occur in the parts, so the generator need not scan
        # megabytes of attachment for it (a long regex search that blocks other threads)
        msg.set_boundary(f"=_netgui_{uuid.uuid4().hex}")
    return msg


def needs_smtputf8(msg: EmailMessage) -> bool:
    """True when an address has a non-ASCII local part (needs SMTPUTF8)."""
    for name in ("From", "To", "Cc", "Bcc"):
        for addr in msg.get_all(name, []) or []:
            for a in getattr(addr, "addresses", ()):
                if not a.username.isascii():
                    return True
    return False


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope: sender address and every To, Cc and Bcc address (no duplicates)."""
    sender = parseaddr(str(msg["From"]))[1]
    if msg["From"] is not None and getattr(msg["From"], "addresses", None):
        sender = msg["From"].addresses[0].addr_spec
    seen, recipients = set(), []
    for name in ("To", "Cc", "Bcc"):
        for header in msg.get_all(name, []) or []:
            for a in getattr(header, "addresses", ()):
                key = a.addr_spec.lower()
                if key not in seen:
                    seen.add(key)
                    recipients.append(a.addr_spec)
    return sender, recipients


class _SlicedGenerator(BytesGenerator):
    """BytesGenerator that converts line ends slice by slice.

    The stock generator splits a whole part body with one regex call; for a
    large attachment that call holds the GIL long enough to freeze the window
    while a worker builds the message. Slices cut after a newline give the same
    output in short calls.
    """

    SLICE = 64 * 1024

    def _write_lines(self, lines):
        start = 0
        while len(lines) - start > self.SLICE:
            cut = lines.find("\n", start + self.SLICE)
            if cut < 0:
                break
            super()._write_lines(lines[start:cut + 1])
            start = cut + 1
        super()._write_lines(lines[start:] if start else lines)


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as bytes with CRLF line ends (Bcc kept if present)."""
    pol = POLICY.clone(utf8=True) if needs_smtputf8(msg) else POLICY
    out = io.BytesIO()
    _SlicedGenerator(out, mangle_from_=False, policy=pol).flatten(msg)
    return out.getvalue()


def wire_bytes(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP: like ``to_bytes`` but without the Bcc header."""
    return strip_bcc(to_bytes(msg))


def strip_bcc(data: bytes) -> bytes:
    """``data`` (a message with CRLF line ends) without its Bcc header lines."""
    end = data.find(b"\r\n\r\n")
    head, rest = (data, b"") if end < 0 else (data[:end + 2], data[end + 2:])
    kept, skipping = [], False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue  # a folded continuation of the Bcc header
        skipping = line[:4].lower() == b"bcc:"
        if not skipping:
            kept.append(line)
    return b"\r\n".join(kept) + rest


def parse_bytes(data: bytes) -> EmailMessage:
    """Parse a stored or received message."""
    return BytesParser(policy=POLICY).parsebytes(data)


# -- reading back ------------------------------------------------------------
def _addr_field(msg: EmailMessage, name: str) -> str:
    out = []
    for header in msg.get_all(name, []) or []:
        addrs = getattr(header, "addresses", None)
        if addrs is None:
            out.append(str(header))
            continue
        out.extend(format_address(a.display_name, a.addr_spec) for a in addrs)
    return ", ".join(out)


def text_of(msg: EmailMessage) -> str:
    """The readable text of a message: its plain part, else its HTML part as text."""
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return _content(part)
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(_content(part)) + "\n"
    return ""


def _content(part) -> str:
    try:
        text = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def attachments_of(msg: EmailMessage) -> list[Attachment]:
    out = []
    for part in msg.iter_attachments():
        name = part.get_filename()
        if part.get_content_type() == "message/rfc822" and part.is_multipart():
            data = part.get_payload(0).as_bytes()  # the attached message itself
            name = name or "forwarded.eml"
        else:
            data = part.get_payload(decode=True)
            if data is None:
                data = part.as_bytes()
        out.append(Attachment(tolerant_local_name(name, "attachment"), data, part.get_content_type()))
    return out


def draft_from_message(msg: EmailMessage | bytes, account: str = "",
                       draft_id: str | None = None) -> Draft:
    """A draft holding a stored message (to edit a draft or an Outbox item again)."""
    if isinstance(msg, (bytes, bytearray)):
        msg = parse_bytes(bytes(msg))
    draft = Draft(account=account, sender=_addr_field(msg, "From"), to=_addr_field(msg, "To"),
                  cc=_addr_field(msg, "Cc"), bcc=_addr_field(msg, "Bcc"),
                  subject=str(msg.get("Subject", "")),
                  body=text_of(msg), attachments=attachments_of(msg),
                  in_reply_to=str(msg.get("In-Reply-To", "")),
                  references=" ".join(str(msg.get("References", "")).split()),
                  message_id=str(msg.get("Message-ID", "")))
    if draft_id:
        draft.id = draft_id
    return draft


# -- reply and forward -------------------------------------------------------
def signature_block(signature: str) -> str:
    """The signature with its standard ``-- `` separator (empty if none)."""
    signature = (signature or "").strip("\n")
    return f"\n-- \n{signature}\n" if signature.strip() else ""


def new_draft(account: str, profile: dict) -> Draft:
    return Draft(account=account, sender=sender_for(profile),
                 body="\n" + signature_block(profile.get("signature", "")))


def _own(profile: dict) -> set[str]:
    return {(profile.get("email") or "").lower()} - {""}


def _quote(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return "\n".join(">" + (" " + line if line and not line.startswith(">") else line)
                     for line in lines) + "\n"


def _subject(prefix: str, subject: str, pattern) -> str:
    subject = " ".join((subject or "").split())
    return subject if pattern.match(subject) else f"{prefix}{subject}"


def _original(original) -> EmailMessage:
    """Accept raw bytes, an EmailMessage, or a parsed message object with ``raw`` bytes."""
    raw = getattr(original, "raw", None)
    if isinstance(raw, (bytes, bytearray)) and raw:
        original = raw
    if isinstance(original, (bytes, bytearray)):
        return parse_bytes(bytes(original))
    return original


def ensure_message_id(draft: Draft) -> str:
    """Give the draft its Message-ID now (so every saved copy of it shares one)."""
    if not draft.message_id:
        try:
            senders = parse_addresses(draft.sender, "From")
        except ComposeError:
            senders = []
        domain = senders[0][1].rpartition("@")[2] if len(senders) == 1 else "netgui.invalid"
        draft.message_id = make_msgid(domain=domain)
    return draft.message_id


def reply_draft(account: str, profile: dict, original, reply_all: bool = False) -> Draft:
    """A reply (or reply to all) to ``original`` (an EmailMessage or raw bytes)."""
    original = _original(original)
    own = _own(profile)
    reply_to = _addr_field(original, "Reply-To") or _addr_field(original, "From")
    to_pairs = [(n, a) for n, a in getaddresses([reply_to]) if a]
    seen = {a.lower() for _, a in to_pairs} | own
    cc_pairs = []
    if reply_all:
        for name in ("To", "Cc"):
            for n, a in getaddresses([_addr_field(original, name)]):
                if a and a.lower() not in seen:
                    seen.add(a.lower())
                    cc_pairs.append((n, a))
        if not to_pairs and cc_pairs:
            to_pairs, cc_pairs = cc_pairs[:1], cc_pairs[1:]
    msgid = " ".join(str(original.get("Message-ID", "")).split())
    refs = " ".join(str(original.get("References", "")).split())
    if not refs and original.get("In-Reply-To"):
        refs = " ".join(str(original["In-Reply-To"]).split())
    references = " ".join(x for x in (refs, msgid) if x)
    who = _addr_field(original, "From") or "someone"
    when = str(original.get("Date", "")).strip()
    attribution = f"On {when}, {who} wrote:\n" if when else f"{who} wrote:\n"
    body = "\n" + attribution + _quote(text_of(original)) + "\n" + \
        signature_block(profile.get("signature", ""))
    return Draft(account=account, sender=sender_for(profile),
                 to=", ".join(format_address(n, a) for n, a in to_pairs),
                 cc=", ".join(format_address(n, a) for n, a in cc_pairs),
                 subject=_subject("Re: ", str(original.get("Subject", "")), _REPLY_PREFIX),
                 body=body, in_reply_to=msgid, references=references)


def forward_draft(account: str, profile: dict, original) -> Draft:
    """A forward of ``original``: its text inline, its attachments attached again."""
    original = _original(original)
    head = ["-------- Forwarded Message --------"]
    for name in ("Subject", "Date", "From", "To", "Cc"):
        value = _addr_field(original, name) if name in ("From", "To", "Cc") else \
            str(original.get(name, "")).strip()
        if value:
            head.append(f"{name}: {value}")
    body = "\n\n" + "\n".join(head) + "\n\n" + text_of(original).rstrip("\n") + "\n" + \
        signature_block(profile.get("signature", ""))
    return Draft(account=account, sender=sender_for(profile),
                 subject=_subject("Fwd: ", str(original.get("Subject", "")), _FWD_PREFIX),
                 body=body, attachments=attachments_of(original))
