"""A hostile SFTP server made with asyncssh's server side, in a thread, on a free loopback port.

It serves a real folder (``root``, asyncssh's chroot) and misbehaves on purpose:
- ``/hostile`` lists names no server may send (``../escape.txt``, ``/etc/passwd``, ``a/b``, ``..``,
  an empty name, NUL) and names that are legal but dangerous locally (control characters,
  text-direction overrides, ``C:drive.txt``), each backed by a real file where possible;
- ``drop.bin``: the connection is cut after ``drop_after`` bytes of the file were served, once
  per server (a resumed download then succeeds);
- ``stall.bin``: reads are never answered (a timeout test);
- ``full/``: writes fail with "No space left on device" (FX_FAILURE, as OpenSSH says it);
- ``secret/``: everything is "permission denied";
- ``endless/``: a listing that never ends;
- authentication: password ``PASSWORD``; keyboard-interactive with two prompts (password and a
  one-time code ``OTP``); public keys in ``authorized``;
- ``rotate_host_key()`` makes new connections see another host key (a changed key).
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import asyncssh

USER, PASSWORD, OTP = "mallory", "hostile-pw", "424242"
HOSTILE_NAMES = [b"../escape.txt", b"/etc/passwd", b"a/b.txt", b"..", b".", b"", b"nul\x00name",
                 b"ctl\x1bname.txt", b"bidi\xe2\x80\xaetxt.exe", b"C:drive.txt", b"ok.txt",
                 b"latin1-\xe9.txt"]


class _Auth(asyncssh.SSHServer):
    def __init__(self, owner: "HostileSftpServer"):
        self.owner = owner

    def connection_made(self, conn) -> None:
        self.owner.connections.append(conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return self.owner.allow_password

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD

    def kbdint_auth_supported(self) -> bool:
        return self.owner.allow_kbdint

    def get_kbdint_challenge(self, username, lang, submethods):
        return ("netgui test", "Two questions follow.", "en-US",
                [("Password: ", False), ("Verification code: ", True)])

    def validate_kbdint_response(self, username, responses):
        return username == USER and list(responses) == [PASSWORD, OTP]

    def public_key_auth_supported(self) -> bool:
        return bool(self.owner.authorized)

    def validate_public_key(self, username: str, key) -> bool:
        return username == USER and any(key == k for k in self.owner.authorized)


class _Sftp(asyncssh.SFTPServer):
    def __init__(self, chan, owner: "HostileSftpServer"):
        self.owner = owner
        super().__init__(chan, chroot=str(owner.root).encode())

    def _guard(self, path: bytes) -> None:
        if path.startswith(b"/secret") or b"/secret/" in path:
            raise asyncssh.SFTPPermissionDenied("Permission denied")

    async def scandir(self, path: bytes):
        self._guard(path)
        if path.rstrip(b"/").endswith(b"hostile"):
            for name in HOSTILE_NAMES:
                attrs = asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_REGULAR, size=7,
                                           permissions=0o100644, mtime=1700000000, atime=1700000000)
                yield asyncssh.SFTPName(name, b"-rw-r--r-- 1 u g 7 Jan 1 2024 " + name, attrs)
            return
        if path.rstrip(b"/").endswith(b"endless"):      # a listing that never ends
            attrs = asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_REGULAR, size=1, permissions=0o100644)
            n = 0
            while True:
                n += 1
                yield asyncssh.SFTPName(b"file%09d" % n, b"", attrs)
        async for entry in super().scandir(path):
            yield entry

    def open(self, path: bytes, pflags: int, attrs):
        self._guard(path)
        if b"/full/" in path and pflags & asyncssh.FXF_WRITE:
            self.owner.events.append(("open-full", path))
        return super().open(path, pflags, attrs)

    def stat(self, path):
        self._guard(path)
        return super().stat(path)

    def lstat(self, path):
        self._guard(path)
        return super().lstat(path)

    def remove(self, path):
        self._guard(path)
        return super().remove(path)

    def mkdir(self, path, attrs):
        self._guard(path)
        return super().mkdir(path, attrs)

    async def read(self, file_obj, offset: int, size: int):
        name = os.fsdecode(getattr(file_obj, "name", "") or "")
        if name.endswith("stall.bin"):
            await asyncio.sleep(3600)
        data = super().read(file_obj, offset, size)
        if name.endswith("drop.bin") and not self.owner.dropped:
            served = self.owner.served.get(name, 0) + len(data)
            self.owner.served[name] = served
            if served > self.owner.drop_after:
                self.owner.dropped = True
                self.connection.abort()          # gone, mid-file
                await asyncio.sleep(3600)
        return data

    def write(self, file_obj, offset: int, data: bytes):
        name = os.fsdecode(getattr(file_obj, "name", "") or "")
        if "/full/" in name:
            raise asyncssh.SFTPFailure("No space left on device")
        return super().write(file_obj, offset, data)


class HostileSftpServer:
    """Start with ``start()``, stop with ``stop()``; ``port``, ``host_key`` (current key)."""

    def __init__(self, root: Path, *, drop_after: int = 300_000, authorized=(),
                 allow_password: bool = True, allow_kbdint: bool = True):
        self.root = Path(root)
        self.drop_after = drop_after
        self.authorized = [asyncssh.read_public_key(str(p)) if not isinstance(p, asyncssh.SSHKey) else p
                           for p in authorized]
        self.allow_password = allow_password
        self.allow_kbdint = allow_kbdint
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.connections: list = []
        self.events: list = []
        self.served: dict[str, int] = {}
        self.dropped = False
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener = None

    def start(self) -> "HostileSftpServer":
        for folder in ("hostile", "full", "secret", "endless"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        folder = os.fsencode(self.root / "hostile")
        for name in HOSTILE_NAMES:      # back every name a file system can hold with a file
            if name and b"/" not in name and b"\x00" not in name and name not in (b".", b".."):
                with open(folder + b"/" + name, "wb") as f:
                    f.write(b"hostile")
        self._thread.start()
        async def listen():
            return await asyncssh.listen(
                "127.0.0.1", 0, server_host_keys=[self.host_key],
                server_factory=lambda: _Auth(self),
                sftp_factory=lambda chan: _Sftp(chan, self),
                allow_scp=False, login_timeout=30, keepalive_interval=0)
        self._listener = self._run(listen())
        self.port = self._listener.get_port()
        return self

    def _run(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def rotate_host_key(self, kind: str = "ssh-ed25519") -> asyncssh.SSHKey:
        """New connections see another host key (old ones keep theirs)."""
        self.host_key = asyncssh.generate_private_key(kind)

        async def swap():
            self._listener.update(server_host_keys=[self.host_key])
        self._run(swap())
        return self.host_key

    def host_key_line(self) -> str:
        public = self.host_key.export_public_key("openssh").decode().split()
        return f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n"

    def drop_all(self) -> None:
        """Cut every open connection (the server itself keeps listening)."""
        async def cut():
            for conn in self.connections:
                conn.abort()
        self._run(cut())

    def stop(self) -> None:
        if self._listener is not None:
            async def close():
                self._listener.close()
                for conn in self.connections:
                    conn.abort()
                await asyncio.sleep(0)
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:       # stalled reads, session handlers: ended, not left pending
                    task.cancel()
                await asyncio.wait(tasks, timeout=5) if tasks else None
            try:
                self._run(close())
            except Exception:
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
