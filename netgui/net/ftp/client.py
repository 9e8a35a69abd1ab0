"""An FTP / FTPS client core on ftplib: one ``FtpClient`` per control connection.

- Plain FTP, explicit FTPS (``AUTH TLS`` + ``PROT P``) and implicit FTPS (TLS from the first
  byte, usually port 990), passive or active data connections, a chosen name encoding.
- Every call has a timeout; a ``CancelToken`` is checked between chunks and watches the data
  and control sockets, so cancelling wakes a blocked transfer at once.
- If the control connection was dropped (idle timeout, server restart), the next action
  reconnects, logs in again, returns to the current folder and runs transparently.
- Downloads go to ``<name>.part`` and are renamed when complete; ``resume`` continues a
  ``.part`` with ``REST``. Uploads resume with ``APPE`` after the remote size.
- The transcript goes to ``log(direction, text)`` with passwords shown as ``PASS ****``.

Remote names are never used as local paths directly: ``local_child`` (on the shared
``safe_names``) reduces them to a harmless base name inside the chosen folder, or refuses them.
"""

from __future__ import annotations

import ftplib
import os
import posixpath
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from netgui.net.cancel import CancelToken, shutdown_quietly
from netgui.net.connection import DEFAULT_TIMEOUT, Log, no_log, open_connection, tls_context
from netgui.net.errors import (
    AuthError,
    Cancelled,
    ConnectionLost,
    LocalFileError,
    NetError,
    ProtocolError,
    translate,
)
from netgui.net.redact import redact
from netgui.net.safe_names import safe_join, safe_local_name

from .listing import DIR, FILE, LINK, RemoteEntry, display_name, parse_listing

TLS_MODES = ("none", "explicit", "implicit")
CHUNK = 256 * 1024
READ_CHUNK = 1024 * 1024
PROGRESS_INTERVAL = 0.05

Progress = Callable[[int, "int | None"], None]
"""``progress(done_bytes, total_bytes_or_None)``."""


def _no_progress(done: int, total: int | None) -> None:
    pass


@dataclass
class FtpSite:
    """Where and how to connect. ``password`` is held in memory only, never saved by the core."""

    host: str
    port: int = 21
    user: str = "anonymous"
    password: str = field(default="", repr=False)
    tls: str = "none"            # "none", "explicit" or "implicit"
    passive: bool = True
    encoding: str = "utf-8"
    verify: bool = True          # verify the server's certificate (FTPS)
    cafile: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    initial_dir: str = ""
    protocol = "ftp"             # not a field; SftpSite says "sftp"

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


def _local_error(exc: OSError, path) -> LocalFileError:
    reason = exc.strerror or str(exc)
    return LocalFileError(f"Cannot use local file {path}: {reason}", detail=f"{type(exc).__name__}: {exc}")


# -- names -------------------------------------------------------------------------------------

def part_and_offset(local: Path, resume: bool) -> tuple[Path, int]:
    """A download's ``.part`` file and the offset to continue at: 0, or with ``resume`` the
    ``.part`` file's size (a ``local`` file without a ``.part`` becomes the ``.part``)."""
    part = local.with_name(local.name + ".part")
    offset = 0
    if resume:
        if not part.exists() and local.exists():
            try:
                os.replace(local, part)
            except OSError as exc:
                raise _local_error(exc, local) from exc
        if part.exists():
            offset = part.stat().st_size
    return part, offset


def open_upload(local: Path, remote_size: Callable[[], "int | None"] | None):
    """An upload's source: (file, its size, offset to start at). With ``remote_size`` (resume)
    the offset is the remote file's size, or 0 if the remote file is larger than the local one."""
    try:
        src = open(local, "rb", buffering=0)
        total = os.fstat(src.fileno()).st_size
    except OSError as exc:
        raise _local_error(exc, local) from exc
    offset = 0
    if remote_size is not None:
        try:
            offset = remote_size() or 0
        except BaseException:
            src.close()
            raise
        if offset > total:
            offset = 0
    return src, total, offset


def local_child(folder, name: str) -> Path:
    """``folder / safe_local_name(name)``, guaranteed inside ``folder`` (``safe_names.safe_join``).

    A name that cannot be made safe (control characters, ``..``) is a LocalFileError.
    """
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in name):
        # bytes the site's encoding could not decode: use the name as shown (with U+FFFD)
        name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        return safe_join(folder, name)
    except ValueError as exc:
        raise LocalFileError(f"Refusing the remote name {display_name(name)!r}: {exc}") from None


def remote_join(folder: str, name: str) -> str:
    return posixpath.join(folder or "/", name)


# -- the ftplib session ---------------------------------------------------------------------

class _Session(ftplib.FTP_TLS):
    """ftplib's FTP_TLS with our connect (timeouts, cancel, implicit TLS), transcript and
    TLS session reuse on data connections (vsftpd and others require it)."""

    def __init__(self, site: FtpSite, context: ssl.SSLContext | None, owner: "FtpClient"):
        self._owner = owner
        self._site = site
        super().__init__(context=context or ssl.create_default_context(), timeout=site.timeout,
                         encoding=site.encoding)
        self.set_pasv(site.passive)

    # ftplib hooks ------------------------------------------------------------------------
    def connect(self, host="", port=0, timeout=-999, source_address=None):
        site = self._site
        self.host, self.port = site.host, site.port
        implicit = self.context if site.tls == "implicit" else None
        self.sock = open_connection(site.host, site.port, timeout=site.timeout,
                                    token=self._owner._token, tls=implicit, log=self._owner._log)
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding, errors="surrogateescape")
        self.welcome = self.getresp()
        return self.welcome

    def auth(self):
        resp = self.voidcmd("AUTH TLS")
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
        self.file = self.sock.makefile("r", encoding=self.encoding, errors="surrogateescape")
        self._owner._log("*", f"TLS {self.sock.version()} with {self.sock.cipher()[0]}")
        return resp

    def putline(self, line):
        if "\r" in line or "\n" in line:
            raise ProtocolError("A name with a line break cannot be sent to an FTP server")
        self._owner._log(">", redact(line))
        self.sock.sendall((line + "\r\n").encode(self.encoding, "surrogateescape"))

    def getline(self):
        line = super().getline()
        self._owner._log("<", line)
        return line

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = getattr(self.sock, "session", None)
            try:
                conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
            except BaseException:
                conn.close()
                raise
        return conn, size


# -- errors ----------------------------------------------------------------------------------

def _reply_error(exc: ftplib.Error, what: str, host: str) -> NetError:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    code = text[:3]
    if code == "530" or (code[:1] == "5" and what.startswith("log in")):
        return AuthError(f"{host} refused the login: {text}", detail=str(exc))
    if code == "421":
        return ConnectionLost(f"{host} closed the connection: {text}", detail=str(exc))
    if isinstance(exc, ftplib.error_temp):
        return ProtocolError(f"Cannot {what} (server busy, try again): {text}", detail=str(exc))
    return ProtocolError(f"Cannot {what}: {text}", detail=str(exc))


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, ftplib.error_temp):
        return str(exc)[:3] == "421"
    if isinstance(exc, (ssl.SSLCertVerificationError, ssl.CertificateError)):
        return False
    return isinstance(exc, (EOFError, ConnectionError, OSError, AttributeError, ConnectionLost))


# -- the client ------------------------------------------------------------------------------

class FtpClient:
    """One FTP control connection with transparent reconnect. Thread-safe: calls serialise.

    Use ``with client.bound(token, log):`` to route one task's cancel token and transcript
    through the calls made inside it.
    """

    def __init__(self, site: FtpSite, *, log: Log = no_log, token: CancelToken | None = None):
        if site.tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {TLS_MODES}")
        self.site = site
        self._log = self._logger(log)
        self._token = token or CancelToken()
        self._lock = threading.RLock()
        self._ftp: _Session | None = None
        self._cwd: str | None = None
        self.features: set[str] = set()
        self.welcome = ""
        self.last_activity = 0.0
        self._moved = False   # set when the current action has transferred data

    # plumbing ------------------------------------------------------------------------------
    def _logger(self, log: Log) -> Log:
        secrets = (self.site.password,) if self.site.password else ()

        def emit(direction: str, text: str) -> None:
            log(direction, redact(text, secrets))
        return emit

    @contextmanager
    def bound(self, token: CancelToken | None = None, log: Log | None = None) -> Iterator["FtpClient"]:
        """Route cancellation and the transcript of calls inside the block to this task."""
        with self._lock:
            old = (self._token, self._log)
            if token is not None:
                self._token = token
            if log is not None:
                self._log = self._logger(log)
            try:
                yield self
            finally:
                self._token, self._log = old

    @property
    def connected(self) -> bool:
        return self._ftp is not None

    @property
    def cwd(self) -> str | None:
        return self._cwd

    def _where(self) -> str:
        return self.site.describe()

    def _connect(self) -> None:
        site = self.site
        context = None
        if site.tls != "none":
            context = tls_context(verify=site.verify, cafile=site.cafile)
        ftp = _Session(site, context, self)
        # Cancelling shuts down whatever control socket the session has at that moment
        # (it changes when AUTH TLS wraps it), so a hanging login wakes up at once.
        unhook = self._token.add_hook(lambda: ftp.sock is not None and shutdown_quietly(ftp.sock))
        try:
            self.welcome = ftp.connect()
            if site.tls == "explicit":
                ftp.auth()
            try:
                ftp.login(site.user or "anonymous", site.password or "", secure=False)
            except ftplib.Error as exc:
                raise _reply_error(exc, "log in", self._where()) from exc
            if site.tls != "none":
                ftp.prot_p()
            try:
                feat = ftp.sendcmd("FEAT")
                lines = [line.strip() for line in feat.splitlines()[1:-1] if line.strip()]
                self.features = {line.split(" ")[0].upper() for line in lines}
                mlst = next((line for line in lines if line.upper().startswith("MLST ")), "")
                offered = {f.rstrip("*").lower() for f in mlst[5:].split(";") if f}
                wanted = [f for f in ("type", "size", "modify", "perm", "unix.mode") if f in offered]
                if "unix.mode" in offered:
                    try:
                        ftp.sendcmd("OPTS MLST " + "".join(f + ";" for f in wanted))
                    except ftplib.Error:
                        pass
            except ftplib.Error:
                self.features = set()
            if "UTF8" in self.features and site.encoding.lower().replace("-", "") == "utf8":
                try:
                    ftp.sendcmd("OPTS UTF8 ON")
                except ftplib.Error:
                    pass
            ftp.voidcmd("TYPE I")
            target = self._cwd or site.initial_dir
            if target:
                try:
                    ftp.cwd(target)
                except ftplib.error_perm as exc:
                    if self._cwd:
                        raise _reply_error(exc, f"open folder {target}", self._where()) from exc
            self._cwd = ftp.pwd()
        except BaseException as exc:
            self._close_session(ftp)
            raise self._translate(exc, "connect") from exc
        finally:
            unhook()
        self._ftp = ftp
        self.last_activity = time.monotonic()
        self._log("*", f"Logged in to {self._where()} as {site.user or 'anonymous'}; folder {self._cwd}")

    def _translate(self, exc: BaseException, what: str) -> NetError:
        if self._token.cancelled:
            return Cancelled()
        if isinstance(exc, NetError):
            return exc
        if isinstance(exc, ftplib.Error):
            return _reply_error(exc, what, self._where())
        if isinstance(exc, (EOFError, AttributeError)):
            return ConnectionLost(f"Connection to {self._where()} was lost")
        err = translate(exc, self.site.host, self.site.port)
        return err

    def _close_session(self, ftp) -> None:
        if ftp is None:
            return
        for obj in (getattr(ftp, "file", None), getattr(ftp, "sock", None)):
            try:
                if obj is not None:
                    obj.close()
            except OSError:
                pass
        ftp.file = ftp.sock = None

    def _drop(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None and ftp.sock is not None:
            shutdown_quietly(ftp.sock)
        self._close_session(ftp)

    def _op(self, what: str, fn, *, retry: bool = True):
        """Run ``fn(ftp)`` connected; reconnect once if the connection was found dead."""
        with self._lock:
            self._token.check()
            for attempt in (0, 1):
                fresh = self._ftp is None
                if fresh:
                    self._connect()
                self._moved = False
                ftp = self._ftp
                try:
                    with self._token.watch(ftp.sock):
                        result = fn(ftp)
                    self.last_activity = time.monotonic()
                    return result
                except Cancelled:
                    self._drop()
                    raise
                except NetError as exc:
                    self._drop()   # mid-command: the control connection's state is unknown
                    raise self._translate(exc, what) from exc
                except BaseException as exc:
                    if self._token.cancelled:
                        self._drop()
                        raise Cancelled() from exc
                    if not _is_connection_failure(exc):
                        raise self._translate(exc, what) from exc
                    self._drop()
                    if attempt == 0 and not fresh and not self._moved and not isinstance(exc, socket.timeout):
                        self._log("*", f"Connection lost ({type(exc).__name__}); reconnecting")
                        continue
                    raise self._translate(exc, what) from exc

    # public API -------------------------------------------------------------------------
    def connect(self) -> str:
        """Connect and log in now (otherwise the first action does). Returns the folder."""
        with self._lock:
            self._token.check()
            if self._ftp is None:
                self._connect()
            return self._cwd

    def close(self) -> None:
        """Say QUIT (briefly) and close the connection."""
        with self._lock:
            ftp = self._ftp
            if ftp is None:
                return
            try:
                ftp.sock.settimeout(min(self.site.timeout, 3))
                ftp.voidcmd("QUIT")
            except BaseException:
                pass
            self._drop()

    def noop(self) -> None:
        self._op("keep the connection alive", lambda ftp: ftp.voidcmd("NOOP"))

    def keepalive(self, idle: float = 60.0, log: Log | None = None) -> bool:
        """Send NOOP if connected, idle for ``idle`` seconds and not busy; True if sent.

        Never waits for a busy connection, and a failure only drops the connection (the
        next action reconnects)."""
        if not self._lock.acquire(blocking=False):
            return False
        old = self._log
        try:
            if self._ftp is None or time.monotonic() - self.last_activity < idle:
                return False
            if log is not None:
                self._log = self._logger(log)
            try:
                self._ftp.voidcmd("NOOP")
                self.last_activity = time.monotonic()
            except BaseException:
                self._drop()
            return True
        finally:
            self._log = old
            self._lock.release()

    def pwd(self) -> str:
        return self._op("read the current folder", lambda ftp: ftp.pwd())

    def chdir(self, path: str) -> str:
        """Change folder; returns the server's idea of the new current folder."""
        def run(ftp):
            ftp.cwd(path)
            self._cwd = ftp.pwd()
            return self._cwd
        return self._op(f"open folder {path}", run)

    def listdir(self, path: str | None = None) -> list[RemoteEntry]:
        """The entries of ``path`` (default: the current folder), by MLSD where offered."""
        def run(ftp):
            target = path or self._cwd or ""
            mlsd = "MLST" in self.features
            verb = "MLSD" if mlsd else "LIST"
            cmd = f"{verb} {target}" if target else verb
            lines = self._retr_lines(ftp, cmd)
            entries, bad = parse_listing(lines, mlsd)
            for line in bad[:20]:
                self._log("!", f"Unreadable listing line: {line!r}")
            if bad:
                self._log("!", f"{len(bad)} listing line(s) could not be read and are not shown")
            return entries
        return self._op(f"list {path or 'the folder'}", run)

    def size(self, path: str) -> int | None:
        """The remote file's size, or None if the server cannot tell (or it does not exist)."""
        def run(ftp):
            try:
                return ftp.size(path)
            except ftplib.error_perm:
                return None
        return self._op(f"read the size of {path}", run)

    def exists(self, path: str) -> RemoteEntry | None:
        """The entry for ``path`` from its parent's listing, or None."""
        parent, name = posixpath.split(path.rstrip("/") or "/")
        for entry in self.listdir(parent or "/"):
            if entry.name == name:
                return entry
        return None

    def mkdir(self, path: str) -> str:
        return self._op(f"create folder {path}", lambda ftp: ftp.mkd(path))

    def rename(self, old: str, new: str) -> None:
        self._op(f"rename {old}", lambda ftp: ftp.rename(old, new))

    def delete_file(self, path: str) -> None:
        self._op(f"delete {path}", lambda ftp: ftp.delete(path))

    def rmdir(self, path: str) -> None:
        self._op(f"remove folder {path}", lambda ftp: ftp.rmd(path))

    def chmod(self, path: str, mode: int) -> None:
        """Change permissions with ``SITE CHMOD`` (most Unix servers have it; others refuse)."""
        self._op(f"change the permissions of {path}", lambda ftp: ftp.voidcmd(f"SITE CHMOD {mode:o} {path}"))

    def delete(self, path: str, kind: str = FILE, *, on_item: Callable[[str], None] | None = None) -> int:
        """Delete a file or link, or a folder with everything in it. Returns items deleted."""
        if kind != DIR:
            self.delete_file(path)
            if on_item:
                on_item(path)
            return 1
        count = 0
        for entry in self.listdir(path):
            self._token.check()
            count += self.delete(remote_join(path, entry.name), entry.kind, on_item=on_item)
        self.rmdir(path)
        if on_item:
            on_item(path)
        return count + 1

    def read_text(self, path: str, limit: int = 1 << 20) -> tuple[str, bool]:
        """The start of a remote file as text (up to ``limit`` bytes): (text, truncated)."""
        def run(ftp):
            chunks, total, truncated = [], 0, False
            conn = ftp.transfercmd(f"RETR {path}")
            try:
                with self._token.watch(conn):
                    while total < limit:
                        data = conn.recv(min(CHUNK, limit - total))
                        if not data:
                            break
                        chunks.append(data)
                        total += len(data)
                    else:
                        truncated = bool(conn.recv(1))
            finally:
                conn.close()
            if truncated:   # we hung up early: the server answers 426 (or 226)
                try:
                    ftp.sock.settimeout(5)
                    ftp.getresp()
                except ftplib.Error:
                    pass
                finally:
                    ftp.sock.settimeout(self.site.timeout)
            else:
                ftp.voidresp()
            raw = b"".join(chunks)
            for enc in ("utf-8", self.site.encoding, "latin-1"):
                try:
                    return raw.decode(enc), truncated
                except (UnicodeDecodeError, LookupError):
                    continue
            return raw.decode("latin-1"), truncated
        return self._op(f"read {path}", run)

    def _retr_lines(self, ftp, cmd: str) -> list[str]:
        """Run a listing command and return its lines (decoded with the site's encoding)."""
        conn = ftp.transfercmd(cmd)
        buf = bytearray()
        try:
            with self._token.watch(conn):
                while True:
                    data = conn.recv(CHUNK)
                    if not data:
                        break
                    buf += data
                    self._token.check()
                self._unwrap(conn)
        finally:
            conn.close()
        ftp.voidresp()
        text = buf.decode(self.site.encoding, "surrogateescape")
        lines = text.split("\n")
        return [line[:-1] if line.endswith("\r") else line for line in lines if line not in ("", "\r")]

    @staticmethod
    def _unwrap(conn) -> None:
        if isinstance(conn, ssl.SSLSocket):
            try:
                conn.unwrap()
            except (OSError, ValueError):
                pass

    # transfers ------------------------------------------------------------------------------
    def download(self, remote: str, local, *, resume: bool = False,
                 progress: Progress = _no_progress, size: int | None = None) -> int:
        """Download ``remote`` to the local path ``local`` via ``local.part``; returns bytes.

        With ``resume`` an existing ``.part`` (or, if none, an existing smaller ``local``)
        is continued with REST. The final rename happens only after the server's 226.
        """
        local = Path(local)
        part, offset = part_and_offset(local, resume)
        total = size if size is not None else self.size(remote)
        if resume and total is not None and offset == total:
            os.replace(part, local)
            progress(total, total)
            return 0
        if total is not None and offset > total:
            offset = 0
        try:
            out = open(part, "r+b" if offset else "wb", buffering=0)
            out.seek(offset)
            out.truncate()
        except OSError as exc:
            raise _local_error(exc, part) from exc
        try:
            def run(ftp):
                # A retry happens only before any byte moved, so starting at offset is right.
                out.seek(offset)
                out.truncate()
                conn, announced = ftp.ntransfercmd(f"RETR {remote}", rest=offset or None)
                buffer = bytearray(READ_CHUNK)
                view = memoryview(buffer)
                expected = total if total is not None else (announced + offset if announced else None)

                def receive(_done: int) -> int:
                    n = conn.recv_into(buffer)
                    try:
                        out.write(view[:n])
                    except OSError as exc:
                        raise _local_error(exc, part) from exc
                    return n

                return self._pump(ftp, conn, receive, offset, _Ticker(progress, expected))
            done = self._op(f"download {remote}", run)
        finally:
            out.close()
        if total is not None and done < total and size is not None:
            total = self.size(remote)   # the listing's size may be stale: ask the server
        if total is not None and done < total:
            raise ConnectionLost(f"Download of {remote} ended early at {done} of {total} bytes; "
                                 "it can be resumed")
        try:
            os.replace(part, local)
        except OSError as exc:
            raise _local_error(exc, local) from exc
        return done - offset

    def upload(self, local, remote: str, *, resume: bool = False,
               progress: Progress = _no_progress) -> int:
        """Upload the local file to ``remote``. With ``resume``, APPE after the remote size."""
        src, total, offset = open_upload(Path(local), (lambda: self.size(remote)) if resume else None)
        try:
            if resume and offset == total and total:
                progress(total, total)
                return 0

            def run(ftp):
                src.seek(offset)
                cmd = f"APPE {remote}" if offset else f"STOR {remote}"
                conn = ftp.transfercmd(cmd)
                zero_copy = hasattr(os, "sendfile") and not isinstance(conn, ssl.SSLSocket)

                def send(done: int) -> int:
                    if zero_copy:   # the kernel copies file to socket (plain FTP)
                        return conn.sendfile(src, offset=done, count=READ_CHUNK)
                    try:
                        data = src.read(CHUNK)
                    except OSError as exc:
                        raise _local_error(exc, local) from exc
                    conn.sendall(data)
                    return len(data)

                return self._pump(ftp, conn, send, offset, _Ticker(progress, total)) - offset
            return self._op(f"upload {remote}", run)
        finally:
            src.close()

    def _pump(self, ftp, conn, step, done: int, ticker) -> int:
        """Move a file over the data connection ``conn``: ``step(done)`` moves one chunk and
        returns its size (0 at the end). Reports progress, stops between chunks when cancelled,
        closes ``conn`` and reads the server's final reply; returns the new ``done``."""
        ticker(done, force=True)
        try:
            with self._token.watch(conn):
                while n := step(done):
                    self._moved = True
                    done += n
                    ticker(done)
                    if self._token.cancelled:
                        raise Cancelled()
                self._unwrap(conn)
        finally:
            conn.close()
        ftp.voidresp()
        ticker(done, force=True)
        return done

    # trees ------------------------------------------------------------------------------
    def walk(self, top: str) -> Iterator[tuple[str, list[RemoteEntry], list[RemoteEntry]]]:
        """Like os.walk for the remote side: (folder, sub-folders, files and links), top-down."""
        entries = self.listdir(top)
        dirs = [e for e in entries if e.kind == DIR]
        files = [e for e in entries if e.kind != DIR]
        yield top, dirs, files
        for d in dirs:
            self._token.check()
            yield from self.walk(remote_join(top, d.name))

    def download_tree(self, remote_dir: str, local_dir, *, progress: Progress = _no_progress) -> int:
        """Download a remote folder into ``local_dir`` (created); returns files downloaded."""
        count = 0
        local_dir = Path(local_dir)
        try:
            local_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _local_error(exc, local_dir) from exc
        entries = self.listdir(remote_dir)
        for entry in entries:
            self._token.check()
            path = remote_join(remote_dir, entry.name)
            try:
                target = local_child(local_dir, entry.name)
            except LocalFileError as exc:   # one unusable name does not stop the rest
                self._log("!", f"Skipped: {exc}")
                continue
            if entry.kind == DIR:
                count += self.download_tree(path, target, progress=progress)
            else:
                self.download(path, target, progress=progress, size=entry.size)
                count += 1
        return count

    def upload_tree(self, local_dir, remote_dir: str, *, progress: Progress = _no_progress) -> int:
        """Upload a local folder to ``remote_dir`` (created if missing); returns files uploaded."""
        self.ensure_dir(remote_dir)
        count = 0
        try:
            children = sorted(Path(local_dir).iterdir())
        except OSError as exc:
            raise _local_error(exc, local_dir) from exc
        for child in children:
            self._token.check()
            target = remote_join(remote_dir, child.name)
            if child.is_dir() and not child.is_symlink():
                count += self.upload_tree(child, target, progress=progress)
            elif child.is_file():
                self.upload(child, target, progress=progress)
                count += 1
        return count

    def ensure_dir(self, path: str) -> None:
        """Create ``path`` (and missing parents) unless it exists already."""
        def exists(ftp, folder: str) -> bool:
            here = ftp.pwd()
            try:
                ftp.cwd(folder)   # it exists if we can enter it
            except ftplib.error_perm:
                return False
            ftp.cwd(here)
            return True

        def run(ftp):
            if exists(ftp, path):
                return
            missing = [path]
            parent = posixpath.dirname(path.rstrip("/"))
            while parent and parent not in ("/", ".") and not exists(ftp, parent):
                missing.append(parent)
                parent = posixpath.dirname(parent)
            for folder in reversed(missing):
                ftp.mkd(folder)
        self._op(f"create folder {path}", run)


class _Ticker:
    """Calls progress at most every PROGRESS_INTERVAL seconds (and when forced)."""

    def __init__(self, progress: Progress, total: int | None):
        self.progress = progress
        self.total = total
        self.last = 0.0

    def __call__(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.progress(done, self.total)


__all__ = ["FtpClient", "FtpSite", "RemoteEntry", "LocalFileError", "safe_local_name", "local_child",
           "remote_join", "TLS_MODES", "DIR", "FILE", "LINK"]
