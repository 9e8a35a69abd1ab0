"""Local stores for outgoing mail, and delivering a queued message.

Three folders under ``data_dir()/outgoing``: ``drafts`` (saved as the user
types), ``outbox`` (queued or failed messages, each with its last error) and
``sent`` (the local Sent folder, used for POP3 accounts, or when the IMAP Sent
folder cannot be reached). Each item is ``<id>.eml`` (the full message, Bcc
included) beside ``<id>.json`` (metadata), both written atomically. A message
moves from Drafts to the Outbox before any network work starts and leaves the
Outbox only once the server has accepted it: a composed message is never lost.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from netgui.config import atomic_write_bytes, atomic_write_text, data_dir
from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import NetError, SignInError
from netgui.net.safe_names import tolerant_local_name

from . import compose
from .signin import open_smtp

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_in_flight: set[str] = set()  # Outbox items being sent by this process
_in_flight_lock = threading.Lock()


class MessageStore:
    """A folder of messages: ``<id>.eml`` plus ``<id>.json`` metadata."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _paths(self, item_id: str) -> tuple[Path, Path]:
        if not _ID.match(item_id or ""):
            raise ValueError(f"bad item id {item_id!r}")
        return self.folder / f"{item_id}.eml", self.folder / f"{item_id}.json"

    def save(self, item_id: str, data: bytes, meta: dict[str, Any]) -> None:
        """Write the message, then its metadata (a message without metadata still lists)."""
        eml, js = self._paths(item_id)
        meta = dict(meta, id=item_id, updated=time.time(), size=len(data))
        atomic_write_bytes(eml, data)
        atomic_write_text(js, json.dumps(meta, ensure_ascii=False, indent=1))

    def update(self, item_id: str, **changes) -> dict[str, Any]:
        """Change an item's metadata (nothing happens if the item is gone meanwhile)."""
        try:
            meta = self.meta(item_id)
        except KeyError:
            return {}
        meta.update(changes, updated=time.time())
        atomic_write_text(self._paths(item_id)[1], json.dumps(meta, ensure_ascii=False, indent=1))
        return meta

    def load(self, item_id: str) -> tuple[bytes, dict[str, Any]]:
        eml, _ = self._paths(item_id)
        return eml.read_bytes(), self.meta(item_id)

    def meta(self, item_id: str) -> dict[str, Any]:
        eml, js = self._paths(item_id)
        try:
            meta = json.loads(js.read_text(encoding="utf-8"))
            if isinstance(meta, dict):
                return meta
        except (OSError, ValueError):
            pass
        if not eml.exists():
            raise KeyError(item_id)
        return {"id": item_id, "updated": eml.stat().st_mtime, "size": eml.stat().st_size}

    def __contains__(self, item_id: str) -> bool:
        try:
            return self._paths(item_id)[0].exists()
        except ValueError:
            return False

    def items(self, account: str | None = None) -> list[dict[str, Any]]:
        """Metadata of every item (newest first), optionally of one account only."""
        out = []
        if not self.folder.is_dir():
            return out
        for eml in self.folder.glob("*.eml"):
            try:
                meta = self.meta(eml.stem)
            except (KeyError, ValueError):
                continue
            if account is None or meta.get("account") == account:
                out.append(meta)
        out.sort(key=lambda m: m.get("updated", 0), reverse=True)
        return out

    def delete(self, item_id: str) -> None:
        for path in self._paths(item_id):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


@dataclass
class Stores:
    drafts: MessageStore
    outbox: MessageStore
    sent: MessageStore


def stores(base: Path | None = None) -> Stores:
    """The Drafts, Outbox and local Sent stores (under ``data_dir()/outgoing``)."""
    base = Path(base) if base else data_dir() / "outgoing"
    return Stores(MessageStore(base / "drafts"), MessageStore(base / "outbox"),
                  MessageStore(base / "sent"))


def _summary(msg, account: str) -> dict[str, Any]:
    return {"account": account, "subject": str(msg.get("Subject", "")),
            "to": ", ".join(a for a in (str(msg.get("To", "")), str(msg.get("Cc", "")),
                                        str(msg.get("Bcc", ""))) if a),
            "message_id": str(msg.get("Message-ID", ""))}


# -- drafts ----------------------------------------------------------------
def save_draft(draft: compose.Draft, st: Stores | None = None) -> None:
    """Store a draft locally. Fields that do not parse yet are kept as typed.

    A message edited after it went to the Outbox leaves the Outbox: its newer
    version is this draft (so it cannot be sent twice, old and new).
    """
    st = st or stores()
    st.drafts.save(draft.id, draft_bytes(draft), {"account": draft.account,
                                                  "subject": draft.subject, "to": draft.to})
    if draft.id in st.outbox:
        st.outbox.delete(draft.id)


def draft_bytes(draft: compose.Draft) -> bytes:
    """A draft as a message. While fields are still invalid, they are kept as typed
    in ``X-Netgui-*`` headers inside a valid message, so nothing typed is lost."""
    try:
        return compose.to_bytes(compose.build_message(draft))
    except compose.ComposeError:
        pass
    msg = compose.EmailMessage(policy=compose.POLICY)
    body = draft.body if draft.body.endswith("\n") else draft.body + "\n"
    msg.set_content(body, charset="utf-8")
    for att in draft.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.data, maintype="application" if maintype == "text" else maintype,
                           subtype="octet-stream" if maintype == "text" else subtype,
                           filename=tolerant_local_name(att.filename, "attachment"))
    for name in ("sender", "to", "cc", "bcc", "subject", "in_reply_to", "references"):
        value = " ".join(str(getattr(draft, name)).split())  # one line, whatever was typed
        if value:
            msg[f"X-Netgui-{name.replace('_', '-')}"] = value
    if not draft.message_id:
        draft.message_id = compose.make_msgid(domain="netgui.invalid")
    msg["Message-ID"] = draft.message_id
    return compose.to_bytes(msg)


def load_draft(data: bytes, account: str = "", draft_id: str | None = None) -> compose.Draft:
    """The draft stored in ``data`` (see ``draft_bytes``)."""
    msg = compose.parse_bytes(data)
    draft = compose.draft_from_message(msg, account, draft_id)
    for name in ("sender", "to", "cc", "bcc", "subject", "in_reply_to", "references"):
        value = msg.get(f"X-Netgui-{name.replace('_', '-')}")
        if value is not None:
            setattr(draft, name, str(value))
    return draft


def open_draft(item_id: str, st: Stores | None = None) -> compose.Draft:
    st = st or stores()
    data, meta = st.drafts.load(item_id)
    return load_draft(data, meta.get("account", ""), item_id)


# -- the outbox ------------------------------------------------------------
def queue(draft: compose.Draft, st: Stores | None = None) -> str:
    """Validate ``draft`` and move it into the Outbox; returns the Outbox id.

    Raises ComposeError (nothing queued) when a field is invalid.
    """
    st = st or stores()
    problems = compose.validate(draft)
    if problems:
        raise compose.ComposeError(problems[0])
    msg = compose.build_message(draft)
    sender, recipients = compose.envelope(msg)
    st.outbox.save(draft.id, compose.to_bytes(msg),
                   dict(_summary(msg, draft.account), state="queued", error="", attempts=0,
                        sender=sender, recipients=recipients,
                        smtputf8=compose.needs_smtputf8(msg)))
    st.drafts.delete(draft.id)
    return draft.id


def edit_queued(item_id: str, st: Stores | None = None) -> compose.Draft:
    """Take a message out of the Outbox back into Drafts to edit it."""
    st = st or stores()
    data, meta = st.outbox.load(item_id)
    draft = compose.draft_from_message(data, meta.get("account", ""), item_id)
    save_draft(draft, st)
    st.outbox.delete(item_id)
    return draft


@dataclass
class Delivery:
    """What happened to a delivered message."""

    item_id: str
    recipients: list[str]
    sent_to: str  # "imap:<folder>", "local", or "" when filing failed
    filing_error: str = ""


def deliver(item_id: str, account: dict, *, smtp_password: str | None = None,
            incoming_password: str | None = None, st: Stores | None = None,
            token: CancelToken | None = None, log: Log = no_log,
            progress: Callable[[int, int], None] | None = None,
            status: Callable[[str], None] = lambda text: None,
            cafile: str | None = None, timeout: float = 30.0, tokens=None) -> Delivery:
    """Send the Outbox item ``item_id`` with the account's SMTP server, then file it in Sent.

    On failure the message stays in the Outbox with the error recorded, and the
    NetError is raised. ``account`` is a normalized profile (netgui.net.mail.accounts);
    ``tokens`` its oauth.TokenManager when it signs in with OAuth2.
    """
    st = st or stores()
    token = token or CancelToken()
    with _in_flight_lock:
        if item_id in _in_flight:
            raise NetError("This message is being sent already")
        _in_flight.add(item_id)
    try:
        return _deliver(item_id, account, smtp_password, incoming_password, st, token, log,
                        progress, status, cafile, timeout, tokens)
    finally:
        with _in_flight_lock:
            _in_flight.discard(item_id)


def _deliver(item_id, account, smtp_password, incoming_password, st, token, log, progress,
             status, cafile, timeout, tokens) -> Delivery:
    try:
        data, meta = st.outbox.load(item_id)
    except (KeyError, FileNotFoundError) as exc:
        raise NetError("This message is no longer in the Outbox") from exc
    if meta.get("sender") and meta.get("recipients"):  # saved when queued: no parsing needed
        sender, recipients = meta["sender"], list(meta["recipients"])
        smtputf8 = bool(meta.get("smtputf8"))
    else:
        msg = compose.parse_bytes(data)
        sender, recipients = compose.envelope(msg)
        smtputf8 = compose.needs_smtputf8(msg)
    wire = compose.strip_bcc(data)
    st.outbox.update(item_id, state="sending", attempts=int(meta.get("attempts", 0)) + 1,
                     last_attempt=time.time())
    try:
        status(f"Connecting to {account.get('smtp_host')}:{account.get('smtp_port')}")
        session = open_smtp(account, smtp_password, tokens, token=token, log=log, cafile=cafile,
                            timeout=timeout, progress=progress)
        try:
            status(f"Sending to {len(recipients)} recipient(s)")
            session.send(wire, sender, recipients, smtputf8=smtputf8)
        finally:
            session.close()
    except NetError as exc:
        st.outbox.update(item_id, state="failed", error=str(exc))
        raise
    except BaseException as exc:
        st.outbox.update(item_id, state="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    # Accepted by the server: from here on, never send it again.
    st.sent.save(item_id, data, dict(meta, state="sent", error="", sent=time.time(),
                                     account=meta.get("account", ""), filed="local"))
    st.outbox.delete(item_id)
    result = Delivery(item_id, recipients, "local")
    if account.get("incoming_protocol") == "imap" and account.get("incoming_host"):
        status("Saving a copy in Sent")
        try:
            folder = file_on_imap(account, incoming_password, data, "sent", token=token, log=log,
                                  cafile=cafile, timeout=timeout,
                                  drop_draft=str(meta.get("message_id", "")), tokens=tokens)
            st.sent.delete(item_id)
            result.sent_to = f"imap:{folder}"
        except NetError as exc:
            log("!", f"The copy for Sent stays local: {exc}")
            st.sent.update(item_id, filing_error=str(exc))
            result.filing_error = str(exc)
    return result


def file_on_imap(account: dict, password: str | None, data: bytes, kind: str, *,
                 token: CancelToken | None = None, log: Log = no_log, cafile: str | None = None,
                 timeout: float = 30.0, flags: tuple[str, ...] = ("\\Seen",),
                 replace_message_id: str = "", drop_draft: str = "", tokens=None) -> str:
    """APPEND ``data`` to the account's special folder ``kind`` ("sent" or "drafts").

    With ``replace_message_id``, older copies with that Message-ID in the folder are
    removed afterwards (a draft saved again replaces its previous version). With
    ``drop_draft``, a copy of that Message-ID in the Drafts folder is removed (the
    draft of a message just sent).
    """
    from .imap import ImapClient  # the reading side's IMAP core

    oauth = tokens if account.get("incoming_auth") == "oauth2" else None
    if oauth is None and account.get("incoming_auth") == "oauth2":
        raise SignInError(f"{account.get('email', 'This account')} signs in with OAuth2, but no "
                          "sign-in is set up")
    client = ImapClient.from_account(account, password, token=token, log=log, cafile=cafile,
                                     timeout=timeout, tokens=oauth)
    try:
        folder = client.special_folder(kind)
        if folder is None:
            folder = kind.capitalize()
            if folder not in {f.name for f in client.list_folders()}:
                client.create_folder(folder)
        old = []
        if replace_message_id and replace_message_id.isascii():
            old = client.search(replace_message_id, fields=("HEADER Message-ID",), folder=folder)
        client.append(folder, data, flags)
        if old:
            client.store_flags(old, ["\\Deleted"])
            client.expunge_uids(old)
        drafts = client.special_folder("drafts") if drop_draft.isascii() and drop_draft else None
        if drafts:
            try:
                stale = client.search(drop_draft, fields=("HEADER Message-ID",), folder=drafts)
                if stale:
                    client.store_flags(stale, ["\\Deleted"])
                    client.expunge_uids(stale)
                    log("*", f"Removed the draft of this message from {drafts}")
            except NetError as exc:  # the message is sent and filed; a stale draft is harmless
                log("!", f"Could not remove the draft from {drafts}: {exc}")
        return folder
    finally:
        client.close()


def save_draft_to_imap(draft: compose.Draft, account: dict, password: str | None, *,
                       token: CancelToken | None = None, log: Log = no_log,
                       cafile: str | None = None, tokens=None) -> str:
    """Store the draft in the account's IMAP Drafts folder (flagged \\Draft), replacing
    the copy saved there before."""
    data = draft_bytes(draft)
    return file_on_imap(account, password, data, "drafts", token=token, log=log, cafile=cafile,
                        flags=("\\Seen", "\\Draft"), replace_message_id=draft.message_id,
                        tokens=tokens)
