"""What the Mail tab's tasks do: sync folders into the cache, open, flag, move, delete, search, watch.

``MailService`` is one per account. Its methods take the task context as their
first argument (``fn(ctx, ...)`` for ``app.runner.submit``) and report rows as
they arrive with ``ctx.event``:

- ``("rows", {"account", "folder", "rows": [MessageRow]})`` new or refreshed rows
- ``("flags", {"account", "folder", "flags": {uid: flags}})`` flags changed on the server
- ``("removed", {"account", "folder", "uids": [...]})`` messages gone from the server
- ``("reset", {"account", "folder"})`` UIDVALIDITY changed: the folder's rows were dropped
- ``("new-mail", {"account", "folder"})`` from ``watch``: something arrived

The IMAP connection is kept open between tasks (one at a time, under a lock);
POP3 sessions are opened per task because POP3 locks the mailbox. An account that signs in
with OAuth2 logs in with its TokenManager's access token (``tokens``), refreshed before it
expires and once more when a server refuses it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from netgui.net.cancel import CancelToken
from netgui.net.connection import no_log
from netgui.net.errors import Cancelled, NetError, SignInError

from . import accounts
from .cache import MailCache, MessageRow
from .imap import FetchedHeaders, ImapClient, uid_set
from .message import ParsedMessage, parse_message
from .pop3 import Pop3Client

FIRST_BATCH = 60
BATCH = 500
SHOW_SECONDS = 0.1        # how often more rows of a first listing reach the list
CHECKPOINT_SECONDS = 2.0  # a long first listing is stored this often, not only at its end
IDLE_SECONDS = 25 * 60
POLL_SECONDS = 120


class PlainContext:
    """A stand-in for the runner's task context (for tests and command-line use)."""

    def __init__(self, token: CancelToken | None = None, log: Callable[[str, str], None] = no_log):
        self.token = token or CancelToken()
        self._log = log
        self.events: list[tuple[str, Any]] = []
        self.statuses: list[str] = []

    def check(self):
        self.token.check()

    def log(self, direction, text):
        self._log(direction, text)

    def status(self, text):
        self.statuses.append(text)

    def progress(self, done, total=None):
        pass

    def event(self, kind, payload=None):
        self.events.append((kind, payload))


def row_from_fetch(item: FetchedHeaders) -> MessageRow:
    return MessageRow(item.uid, item.header, item.size, item.flags)


class MailService:
    """Reading one account: IMAP or POP3, through the offline cache."""

    def __init__(self, name: str, account: dict, cache: MailCache, *, secrets=None,
                 password: str | None = None, cafile: str | None = None,
                 tokens: Callable[[], Any] | None = None):
        """``tokens``: makes the account's oauth.TokenManager (an OAuth2 account's sign-in);
        called in the worker, so a sign-in that is not set up is that task's error."""
        self.name = name
        self.tokens = tokens
        self.account = accounts.normalize(account)
        self.cache = cache
        self.secrets = secrets
        self._password = password
        self._remember = False
        self.cafile = cafile
        self.lock = threading.Lock()
        self._imap: ImapClient | None = None

    @property
    def protocol(self) -> str:
        return self.account["incoming_protocol"]

    def password(self) -> str:
        """The password given for this session, else the keyring's; PasswordNeeded if none."""
        if self._password is not None:
            return self._password
        stored = accounts.incoming_password(self.secrets, self.name) if self.secrets else None
        if not stored:
            raise accounts.PasswordNeeded(f"No password is stored for {self.name}")
        return stored

    def use_password(self, password: str | None, remember: bool = False) -> None:
        """Log in with ``password`` from now on (kept in memory; None: the keyring's again).
        With ``remember`` it goes to the keyring once the server has accepted it."""
        self._password = password
        self._remember = bool(password) and remember

    @property
    def uses_oauth(self) -> bool:
        return self.account["incoming_auth"] == "oauth2"

    def _login(self, client_class, ctx):
        """A new connection, logged in (and the password remembered if it was to be)."""
        if self.uses_oauth:
            if self.tokens is None:
                raise SignInError(f"{self.name} signs in with OAuth2, but no sign-in is set up")
            return client_class.from_account(self.account, None, token=ctx.token, log=ctx.log,
                                             cafile=self.cafile, tokens=self.tokens())
        client = client_class.from_account(self.account, self.password(), token=ctx.token,
                                           log=ctx.log, cafile=self.cafile)
        if self._remember and self.secrets is not None and self._password:
            self._remember = False
            self.secrets.set(accounts.secret_key(self.name, "incoming"), self._password)
        return client

    def _payload(self, folder: str, **extra) -> dict:
        return {"account": self.name, "folder": folder, **extra}

    # -- connections ------------------------------------------------------------
    def _client(self, ctx) -> ImapClient:
        client = self._imap
        if client is not None and client.alive:
            client.bind(ctx.token, ctx.log)
            return client
        if client is not None:
            client.close()
        self._imap = None
        ctx.status(f"Connecting to {self.account['incoming_host']}")
        client = self._login(ImapClient, ctx)
        self._imap = client
        return client

    def _pop(self, ctx) -> Pop3Client:
        ctx.status(f"Connecting to {self.account['incoming_host']}")
        return self._login(Pop3Client, ctx)

    def close(self) -> None:
        with self.lock:
            if self._imap is not None:
                self._imap.close()
                self._imap = None

    def _imap_job(self, ctx, job, wait: bool = False):
        """Run ``job(client)`` on the shared connection; while another task holds it (a long
        first sync), on a connection of its own, so opening a message never waits for a sync
        (``wait``: take turns instead, for work nobody is looking at yet)."""
        if wait:
            while not self.lock.acquire(timeout=0.1):
                ctx.check()
        elif not self.lock.acquire(blocking=False):
            ctx.log("*", "The account's connection is busy: using a second one")
            client = self._login(ImapClient, ctx)
            try:
                return job(client)
            finally:
                client.close()
        try:
            client = self._client(ctx)
            try:
                return job(client)
            except (Cancelled, NetError) as exc:
                if not client.alive or isinstance(exc, Cancelled):
                    client.close()
                    self._imap = None
                raise
        finally:
            self.lock.release()

    # -- folders ----------------------------------------------------------------
    def folders(self, ctx) -> list:
        """The folder list (from the server; POP3 has only the Inbox), saved in the cache."""
        if self.protocol == "pop3":
            from .imap import Folder
            folders = [Folder("INBOX", "INBOX", None, (), "inbox")]
        else:
            folders = self._imap_job(ctx, lambda c: c.list_folders(), wait=True)
        self.cache.set_folders(self.name, folders)
        return self.cache.folders(self.name)

    # -- the message list ---------------------------------------------------------
    def sync(self, ctx, folder: str = "INBOX", first: int = FIRST_BATCH, batch: int = BATCH) -> int:
        """Bring the cache up to date with the server; returns the number of messages."""
        if self.protocol == "pop3":
            return self._sync_pop3(ctx, batch)
        return self._imap_job(ctx, lambda c: self._sync_imap(ctx, c, folder, first, batch))

    def _sync_imap(self, ctx, client: ImapClient, folder: str, first: int, batch: int) -> int:
        state = client.select(folder)
        if self.cache.check_uidvalidity(self.name, folder, state.uidvalidity, state.uidnext):
            ctx.log("*", f"{folder}: UIDVALIDITY changed, the cached list was dropped")
            ctx.event("reset", self._payload(folder))
        cached = self.cache.uids(self.name, folder)
        if not cached:
            return self._first_listing(ctx, client, state, folder, first, batch)
        top = max(cached)
        ctx.status(f"Checking {folder} for new mail")
        for items in client.iter_header_batches(state, min_uid=top + 1, batch=batch):
            rows = [row_from_fetch(i) for i in items]
            self.cache.add_messages(self.name, folder, rows)
            ctx.event("rows", self._payload(folder, rows=rows))
        flags = client.fetch_flags(f"1:{top}") if state.exists else {}
        gone = sorted(cached - flags.keys())
        if gone:
            self.cache.remove(self.name, folder, gone)
            ctx.event("removed", self._payload(folder, uids=gone))
        old = self.cache.flags(self.name, folder)
        changed = {u: f for u, f in flags.items() if u in old and set(old[u]) != set(f)}
        if changed:
            self.cache.set_flags(self.name, folder, changed)
            ctx.event("flags", self._payload(folder, flags=changed))
        missing = sorted(flags.keys() - cached, reverse=True)  # an earlier sync was interrupted
        for i in range(0, len(missing), batch):
            items = client.fetch_headers(uid_set(missing[i:i + batch]))
            rows = [row_from_fetch(x) for x in items]
            self.cache.add_messages(self.name, folder, rows)
            ctx.event("rows", self._payload(folder, rows=rows))
        return state.exists

    def _first_listing(self, ctx, client: ImapClient, state, folder: str, first: int,
                       batch: int) -> int:
        """List a folder the cache knows nothing of. Rows are made as batches arrive (while
        the server sends the next), handed to the list every SHOW_SECONDS (each hand-over
        re-sorts it) and stored once all are in (or every CHECKPOINT_SECONDS)."""
        ctx.status(f"Fetching {state.exists} headers from {folder}")
        listed: list[MessageRow] = []
        shown = stored = 0
        shown_at = stored_at = time.monotonic()

        def show():
            nonlocal shown, shown_at
            if shown < len(listed):
                ctx.event("rows", self._payload(folder, rows=listed[shown:]))
                ctx.progress(len(listed), state.exists)
                shown, shown_at = len(listed), time.monotonic()

        try:
            for items in client.iter_header_batches(state, first, batch):
                listed += [row_from_fetch(i) for i in items]
                if not shown or time.monotonic() - shown_at >= SHOW_SECONDS:
                    show()
                if time.monotonic() - stored_at > CHECKPOINT_SECONDS:
                    self.cache.add_messages(self.name, folder, listed[stored:])
                    stored, stored_at = len(listed), time.monotonic()
        finally:  # what is left, also when the listing was cut off
            show()
            self.cache.add_messages(self.name, folder, listed[stored:])
        return len(listed)

    def _sync_pop3(self, ctx, batch: int) -> int:
        folder = "INBOX"
        pop = self._pop(ctx)
        try:
            ids = pop.uidl()
            sizes = pop.sizes()
            known = self.cache.uidls(self.name, folder)
            gone = [uid for uidl, uid in known.items() if uidl not in ids]
            if gone:
                self.cache.remove(self.name, folder, gone)
                ctx.event("removed", self._payload(folder, uids=gone))
            new = sorted((num, uidl) for uidl, num in ids.items() if uidl not in known)
            ctx.status(f"{len(new)} new of {len(ids)} messages")
            next_uid = self.cache.max_uid(self.name, folder) + 1
            numbered = [(num, uidl, next_uid + i) for i, (num, uidl) in enumerate(new)]
            rows: list[MessageRow] = []
            for count, (num, uidl, uid) in enumerate(reversed(numbered), 1):
                ctx.check()
                rows.append(MessageRow(uid, pop.top(num, 0), sizes.get(num, 0), (), uidl))
                if len(rows) >= (FIRST_BATCH if count <= FIRST_BATCH else batch):
                    self.cache.add_messages(self.name, folder, rows)
                    ctx.event("rows", self._payload(folder, rows=rows))
                    rows = []
                ctx.progress(count, len(numbered))
            if rows:
                self.cache.add_messages(self.name, folder, rows)
                ctx.event("rows", self._payload(folder, rows=rows))
            return len(ids)
        finally:
            pop.close()

    # -- one message ------------------------------------------------------------------
    def open(self, ctx, folder: str, uid: int) -> ParsedMessage:
        """The message, parsed: from the cache if it was opened before, else from the server."""
        raw = self.cache.body(self.name, folder, uid)
        if raw is None:
            ctx.status("Fetching the message")
            if self.protocol == "pop3":
                raw = self._retr_pop3(ctx, uid)
            else:
                raw = self._imap_job(ctx, lambda c: c.fetch_message(uid, folder))
            self.cache.store_body(self.name, folder, uid, raw)
        self.cache.change_flag(self.name, folder, [uid], "\\Seen", True)
        parsed = parse_message(raw)
        self.cache.set_attachment(self.name, folder, uid, bool(parsed.attachments))
        return parsed


    def _pop_number(self, pop: Pop3Client, folder: str, uid: int) -> int:
        row = self.cache.message(self.name, folder, uid)
        number = pop.uidl().get(row.uidl) if row and row.uidl else None
        if number is None:
            raise NetError("This message is no longer on the server")
        return number

    def _retr_pop3(self, ctx, uid: int) -> bytes:
        pop = self._pop(ctx)
        try:
            return pop.retr(self._pop_number(pop, "INBOX", uid))
        finally:
            pop.close()

    # -- changes ------------------------------------------------------------------------
    def set_flag(self, ctx, folder: str, uids: list[int], flag: str, add: bool) -> None:
        """Set or clear \\Seen / \\Flagged (on the server for IMAP, locally for POP3)."""
        if self.protocol == "imap":
            def job(c):
                c.select(folder)
                c.store_flags(uids, [flag], add)
            self._imap_job(ctx, job)
        self.cache.change_flag(self.name, folder, uids, flag, add)

    def move(self, ctx, folder: str, uids: list[int], target: str) -> None:
        if self.protocol != "imap":
            raise NetError("POP3 has no folders to move messages to")

        def job(c):
            c.select(folder)
            c.move(uids, target)
        self._imap_job(ctx, job)
        self.cache.remove(self.name, folder, uids)

    def delete(self, ctx, folder: str, uids: list[int]) -> str | None:
        """IMAP: to Trash (or for good inside Trash). POP3: DELE + QUIT (the tab asks first)."""
        if self.protocol == "pop3":
            pop = self._pop(ctx)
            try:
                ids = pop.uidl()
                for uid in uids:
                    row = self.cache.message(self.name, folder, uid)
                    if row and row.uidl in ids:
                        pop.dele(ids[row.uidl])
                pop.quit()
            finally:
                pop.close()
            self.cache.remove(self.name, folder, uids)
            return None

        def job(c):
            c.select(folder)
            return c.delete(uids)
        target = self._imap_job(ctx, job)
        self.cache.remove(self.name, folder, uids)
        return target

    def search(self, ctx, folder: str, text: str) -> list[int]:
        """Server-side search (IMAP) or a search of the cached rows (POP3)."""
        if self.protocol == "imap":
            def job(c):
                c.select(folder)
                return c.search(text)
            return self._imap_job(ctx, job)
        needle = text.lower()
        return [r.uid for r in self.cache.messages(self.name, folder)
                if needle in r.sender.lower() or needle in r.subject.lower()
                or needle in (self.cache.body(self.name, folder, r.uid) or b"").decode(
                    "utf-8", "replace").lower()]

    # -- new mail ---------------------------------------------------------------------------
    def watch(self, ctx, folder: str = "INBOX", poll: float = POLL_SECONDS,
              idle_seconds: float = IDLE_SECONDS) -> None:
        """Until cancelled: IDLE on its own connection where offered, else poll; report new mail."""
        payload = self._payload(folder)
        if self.protocol == "pop3":
            seen = None
            while not ctx.token.wait(poll):
                pop = self._pop(ctx)
                try:
                    ids = set(pop.uidl())
                finally:
                    pop.close()
                if seen is not None and ids - seen:
                    ctx.event("new-mail", payload)
                seen = ids
            raise Cancelled()
        client = self._login(ImapClient, ctx)
        try:
            state = client.select(folder, readonly=True)
            last = state.exists
            while True:
                ctx.check()
                if client.has("IDLE"):
                    news = client.idle(idle_seconds)
                else:
                    if ctx.token.wait(poll):
                        raise Cancelled()
                    news = client.noop()
                if news:
                    exists = client.select(folder, readonly=True).exists
                    if exists != last or "EXPUNGE" in news or "FETCH" in news:
                        ctx.event("new-mail", payload)
                    last = exists
        finally:
            client.close()
