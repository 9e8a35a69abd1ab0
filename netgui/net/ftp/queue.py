"""The FTP transfer queue, without Tk: items, batches, conflict policies, a connection pool.

A ``TransferQueue`` holds ``TransferItem`` rows. ``take()`` hands out the next queued item
while fewer than ``concurrency`` run; ``run_item`` does one item on a pooled ``FtpClient``
(its own connection) and returns an outcome; ``finish`` records it. Folders are expanded
into items when they run. When a target exists and neither the item nor its batch has a
policy, ``run_item`` returns ``CONFLICT`` and the item waits for ``decide()``; a decision may
be remembered for the whole batch. Failed items stay with their error until retried.

``QueueRunner`` drives a queue with plain threads (command line, tests, benchmarks); the
GUI drives the same queue through the app's task runner.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log, no_log
from netgui.net.errors import Cancelled, ConnectionLost, NetError, NetTimeout

from .client import DIR, FtpClient, FtpSite, LocalFileError, local_child, remote_join

DOWNLOAD, UPLOAD = "download", "upload"
QUEUED, RUNNING, WAITING, DONE, FAILED, SKIPPED, CANCELLED = (
    "queued", "running", "waiting", "done", "failed", "skipped", "cancelled")
FINISHED_STATES = (DONE, SKIPPED)
OVERWRITE, RESUME, RENAME, SKIP = "overwrite", "resume", "rename", "skip"
POLICIES = (OVERWRITE, RESUME, RENAME, SKIP)
# outcomes of run_item
CONFLICT, EXPANDED = "conflict", "expanded"


@dataclass(eq=False)
class Batch:
    """Items added together; ``policy`` is the remembered answer to "the target exists"."""

    id: int
    policy: str | None = None


@dataclass(eq=False)
class TransferItem:
    """One file (or a folder still to expand) to move in one direction."""

    id: int
    direction: str
    remote: str
    local: Path
    batch: Batch
    size: int | None = None
    is_dir: bool = False
    state: str = QUEUED
    done: int = 0
    error: str = ""
    policy: str | None = None
    attempts: int = 0
    parent: int | None = None
    modified: float | None = None   # the remote time, given to a downloaded file
    retry_at: float = 0.0           # a retried item waits until then (time.monotonic())
    refused: str = ""               # why the remote name cannot be used locally (never runs)

    @property
    def name(self) -> str:
        return posixpath.basename(self.remote.rstrip("/")) if self.direction == DOWNLOAD else self.local.name

    @property
    def effective_policy(self) -> str | None:
        return self.policy or self.batch.policy


class TransferQueue:
    """Thread-safe list of transfer items with states and the rules for picking the next."""

    def __init__(self, concurrency: int = 2, on_change: Callable[[TransferItem], None] | None = None,
                 retries: int = 2, retry_delay: float = 3.0):
        self.retries = retries            # automatic retries after a lost connection
        self.retry_delay = retry_delay
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._batches = itertools.count(1)
        self.items: list[TransferItem] = []
        self.concurrency = concurrency
        self.on_change = on_change or (lambda item: None)

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value: int) -> None:
        self._concurrency = max(1, min(4, int(value)))

    def new_batch(self, policy: str | None = None) -> Batch:
        return Batch(next(self._batches), policy)

    def _add(self, item: TransferItem, after: TransferItem | None = None) -> TransferItem:
        with self._lock:
            if after is not None and after in self.items:
                self.items.insert(self.items.index(after) + 1, item)
            else:
                self.items.append(item)
        self.on_change(item)
        return item

    def add_download(self, remote: str, local_dir, *, size: int | None = None, is_dir: bool = False,
                     batch: Batch | None = None, name: str | None = None,
                     modified: float | None = None) -> TransferItem:
        """Queue a remote file or folder to land in ``local_dir`` under a sanitised name."""
        batch = batch or self.new_batch()
        base = name or posixpath.basename(remote.rstrip("/")) or "download"
        try:
            local = local_child(local_dir, base)
            refused = ""
        except LocalFileError as exc:   # shown in the queue as failed, with the reason
            local, refused = Path(local_dir), str(exc)
        item = TransferItem(next(self._ids), DOWNLOAD, remote, local, batch, size, is_dir,
                            modified=modified, refused=refused)
        if refused:
            item.state, item.error = FAILED, refused
        return self._add(item)

    def add_upload(self, local, remote_dir: str, *, batch: Batch | None = None) -> TransferItem:
        """Queue a local file or folder to go into ``remote_dir``."""
        batch = batch or self.new_batch()
        local = Path(local)
        is_dir = local.is_dir()
        size = None if is_dir else _file_size(local)
        remote = remote_join(remote_dir, local.name)
        return self._add(TransferItem(next(self._ids), UPLOAD, remote, local, batch, size, is_dir))

    # picking and finishing ---------------------------------------------------------------
    def running(self) -> list[TransferItem]:
        with self._lock:
            return [i for i in self.items if i.state == RUNNING]

    def take(self) -> TransferItem | None:
        """The next queued item (now RUNNING), or None if none is queued or all slots are busy."""
        with self._lock:
            if len(self.running()) >= self.concurrency:
                return None
            now = time.monotonic()
            for item in self.items:
                if item.state == QUEUED and item.retry_at <= now:
                    item.state = RUNNING
                    item.error = ""
                    item.attempts += 1
                    break
            else:
                return None
        self.on_change(item)
        return item

    def finish(self, item: TransferItem, outcome: str | None = None, error: NetError | str | None = None) -> None:
        """Record how a run ended: an outcome of ``run_item`` or an error."""
        with self._lock:
            if error is not None and isinstance(error, (ConnectionLost, NetTimeout)) \
                    and item.attempts <= self.retries:
                # A dropped connection or a stalled server: try again shortly (resuming).
                item.state = QUEUED
                item.error = f"{error}; retrying in {self.retry_delay:.0f} s"
                item.retry_at = time.monotonic() + self.retry_delay
                if item.done and item.policy is None and item.direction == UPLOAD:
                    item.policy = RESUME
            elif error is not None:
                item.state = CANCELLED if isinstance(error, Cancelled) else FAILED
                item.error = str(error)
            elif outcome == CONFLICT:
                item.state = WAITING
                item.error = "The target exists"
            elif outcome == EXPANDED:
                item.state = DONE
            elif outcome == SKIP:
                item.state = SKIPPED
            else:
                item.state = DONE
                if item.size is not None:
                    item.done = item.size
        self.on_change(item)

    def decide(self, item: TransferItem, policy: str, for_batch: bool = False) -> None:
        """Answer a conflict for an item (and, if asked, for the rest of its batch)."""
        if policy not in POLICIES:
            raise ValueError(policy)
        changed = [item]
        with self._lock:
            item.policy = policy
            if for_batch:
                item.batch.policy = policy
                changed = [i for i in self.items if i.batch is item.batch and i.state == WAITING]
            for i in changed:
                i.state = QUEUED
                i.error = ""
        for i in changed:
            self.on_change(i)

    def waiting(self) -> list[TransferItem]:
        with self._lock:
            return [i for i in self.items if i.state == WAITING]

    def retry(self, item: TransferItem) -> None:
        """Queue a failed or cancelled item again; a partial transfer continues (resume)."""
        with self._lock:
            if item.state not in (FAILED, CANCELLED):
                return
            if item.done and item.policy is None and item.direction == UPLOAD:
                item.policy = RESUME
            item.state = QUEUED
            item.error = ""
            item.attempts = 0
            item.retry_at = 0.0
        self.on_change(item)

    def cancel_queued(self, item: TransferItem) -> None:
        with self._lock:
            if item.state in (QUEUED, WAITING):
                item.state = CANCELLED
                item.error = "Cancelled"
        self.on_change(item)

    def remove(self, item: TransferItem) -> None:
        with self._lock:
            if item.state != RUNNING and item in self.items:
                self.items.remove(item)

    def clear_finished(self) -> list[TransferItem]:
        with self._lock:
            gone = [i for i in self.items if i.state in FINISHED_STATES]
            self.items = [i for i in self.items if i.state not in FINISHED_STATES]
        return gone

    def next_retry_in(self) -> float | None:
        """Seconds until the earliest waiting retry may start, or None if none waits."""
        now = time.monotonic()
        with self._lock:
            times = [i.retry_at for i in self.items if i.state == QUEUED and i.retry_at > now]
        return min(times) - now if times else None

    def pending(self) -> bool:
        """True while something is queued or running."""
        with self._lock:
            return any(i.state in (QUEUED, RUNNING) for i in self.items)

    def totals(self) -> tuple[int, int]:
        """(bytes done, bytes known in total) over the files in the queue."""
        with self._lock:
            files = [i for i in self.items if not i.is_dir and i.state != SKIPPED]
            total = sum(i.size or 0 for i in files)
            done = sum(min(i.done, i.size or i.done) for i in files)
        return done, total

    def counts(self) -> dict[str, int]:
        with self._lock:
            result: dict[str, int] = {}
            for i in self.items:
                if not i.is_dir:
                    result[i.state] = result.get(i.state, 0) + 1
            return result


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


# -- doing one item ------------------------------------------------------------------------

def run_item(client: FtpClient, queue: TransferQueue, item: TransferItem,
             progress: Callable[[int, int | None], None] = lambda d, t: None,
             token: CancelToken | None = None) -> str:
    """Do one item on ``client`` (bound to the caller's token/log). Returns an outcome:
    ``"done"``, ``SKIP``, ``CONFLICT`` (waiting for ``decide``) or ``EXPANDED`` (a folder whose
    children were queued after it)."""
    token = token or CancelToken()
    if item.refused:
        raise LocalFileError(item.refused)

    def report(done: int, total: int | None) -> None:
        item.done = done
        if total is not None:
            item.size = total
        progress(done, total)

    if item.is_dir:
        return _expand(client, queue, item, token)
    if item.direction == DOWNLOAD:
        return _download(client, item, report)
    return _upload(client, item, report)


def _expand(client: FtpClient, queue: TransferQueue, item: TransferItem, token: CancelToken) -> str:
    last = item
    if item.direction == DOWNLOAD:
        try:
            item.local.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LocalFileError(f"Cannot create local folder {item.local}: {exc.strerror or exc}") from exc
        for entry in sorted(client.listdir(item.remote), key=lambda e: (e.kind != DIR, e.name)):
            token.check()
            child = queue.add_download(remote_join(item.remote, entry.name), item.local, size=entry.size,
                                       is_dir=entry.kind == DIR, batch=item.batch, name=entry.name,
                                       modified=entry.modified)
            _move_after(queue, child, last)
            child.parent = item.id
            last = child
    else:
        client.ensure_dir(item.remote)
        try:
            children = sorted(item.local.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        except OSError as exc:
            raise LocalFileError(f"Cannot read local folder {item.local}: {exc.strerror or exc}") from exc
        for path in children:
            token.check()
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                continue
            child = queue.add_upload(path, item.remote, batch=item.batch)
            _move_after(queue, child, last)
            child.parent = item.id
            last = child
    return EXPANDED


def _move_after(queue: TransferQueue, child: TransferItem, after: TransferItem) -> None:
    with queue._lock:
        queue.items.remove(child)
        queue.items.insert(queue.items.index(after) + 1, child)


def _unique_local(path: Path) -> Path:
    stem, suffix = path.stem, path.suffix
    for n in itertools.count(1):
        candidate = path.with_name(f"{stem} ({n}){suffix}")
        if not candidate.exists() and not candidate.with_name(candidate.name + ".part").exists():
            return candidate
    raise AssertionError("unreachable")


def _conflict_policy(item: TransferItem) -> str:
    """What to do with an existing target: the item's policy, or CONFLICT to ask the user."""
    return CONFLICT if item.effective_policy is None else item.effective_policy


def _download(client: FtpClient, item: TransferItem, report) -> str:
    local = item.local
    part = local.with_name(local.name + ".part")
    resume = False
    if local.exists():
        policy = _conflict_policy(item)
        if policy in (CONFLICT, SKIP):
            return policy
        if policy == RENAME:
            item.local = local = _unique_local(local)
        elif policy == RESUME:
            resume = True
    elif part.exists():
        resume = True   # an interrupted earlier download of this file: continue it with REST
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LocalFileError(f"Cannot create local folder {local.parent}: {exc.strerror or exc}") from exc
    client.download(item.remote, local, resume=resume, progress=report, size=item.size)
    if item.modified is not None:
        try:
            os.utime(local, (item.modified, item.modified))
        except (OSError, OverflowError, ValueError):
            pass   # a time the local file system cannot hold: keep the download time
    return DONE


def _upload(client: FtpClient, item: TransferItem, report) -> str:
    remote_size = client.size(item.remote)
    resume = False
    if remote_size is not None:
        policy = _conflict_policy(item)
        if policy in (CONFLICT, SKIP):
            return policy
        if policy == RENAME:
            folder, name = posixpath.split(item.remote)
            stem, dot, ext = name.rpartition(".")
            if not stem:
                stem, dot, ext = name, "", ""
            for n in itertools.count(1):
                candidate = remote_join(folder, f"{stem} ({n}){dot}{ext}")
                if client.size(candidate) is None:
                    item.remote = candidate
                    break
        elif policy == RESUME:
            resume = True
    client.upload(item.local, item.remote, resume=resume, progress=report)
    return DONE


# -- connections -----------------------------------------------------------------------------

def _default_factory(site, log: Log = no_log):
    """FtpClient for an FtpSite, SftpClient for an SftpSite (asyncssh is imported only then).
    The tab and the command line pass ``sftp.pool_factory(client)`` instead, so the transfers
    log in with what the client's login learnt (and share its host keys and questions)."""
    if getattr(site, "protocol", "ftp") == "sftp":
        from .sftp import SftpClient
        return SftpClient(site, log=log)
    return FtpClient(site, log=log)


class ClientPool:
    """Up to ``size`` FtpClients for one site, each its own connection, handed out one at a time."""

    def __init__(self, site: FtpSite, size: int = 4, log: Log = no_log, factory=None):
        self.site = site
        # factory(site, log=...) -> a client; default: FtpClient or SftpClient by the site's protocol
        self.factory = factory or _default_factory
        self.log = log
        self._free: list[FtpClient] = []
        self._all: list[FtpClient] = []
        self._cond = threading.Condition()
        self.size = size
        self.created = 0

    def acquire(self, token: CancelToken | None = None) -> FtpClient:
        with self._cond:
            while True:
                if self._free:
                    return self._free.pop()
                if len(self._all) < self.size:
                    client = self.factory(self.site, log=self.log)
                    self._all.append(client)
                    self.created += 1
                    return client
                if token is not None and token.cancelled:
                    raise Cancelled()
                self._cond.wait(0.2)

    def number(self, client: FtpClient) -> int:
        """1-based number of a pooled connection (to tell them apart in a transcript)."""
        with self._cond:
            return self._all.index(client) + 1 if client in self._all else 0

    def release(self, client: FtpClient) -> None:
        with self._cond:
            self._free.append(client)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            clients, self._all, self._free = self._all, [], []
        for client in clients:
            client.close()


# -- a thread driver -------------------------------------------------------------------------

class QueueRunner:
    """Runs a queue to completion with worker threads (no GUI): each slot its own connection.

    ``decide(item) -> (policy, for_batch)`` answers conflicts; default: skip.
    """

    def __init__(self, queue: TransferQueue, pool: ClientPool,
                 decide: Callable[[TransferItem], tuple[str, bool]] | None = None, log: Log = no_log):
        self.queue = queue
        self.pool = pool
        self.decide = decide or (lambda item: (SKIP, False))
        self.log = log
        self.token = CancelToken()
        self.max_parallel = 0
        self._lock = threading.Lock()
        self._active = 0

    def run(self) -> None:
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.queue.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _worker(self) -> None:
        while not self.token.cancelled:
            item = self.queue.take()
            if item is None:
                waiting = self.queue.waiting()
                if waiting:
                    for w in waiting:
                        if w.state == WAITING:
                            policy, for_batch = self.decide(w)
                            self.queue.decide(w, policy, for_batch)
                    continue
                if not self.queue.pending():
                    return
                self.token.wait(0.02)
                continue
            with self._lock:
                self._active += 1
                self.max_parallel = max(self.max_parallel, self._active)
            client = self.pool.acquire(self.token)
            try:
                with client.bound(self.token, self.log):
                    outcome = run_item(client, self.queue, item, token=self.token)
                self.queue.finish(item, outcome)
            except NetError as exc:
                self.queue.finish(item, error=exc)
            finally:
                self.pool.release(client)
                with self._lock:
                    self._active -= 1

    def cancel(self) -> None:
        self.token.cancel()
