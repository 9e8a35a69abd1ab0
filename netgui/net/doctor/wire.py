"""A socket read as lines for the doctor's greetings, with what each server's first line says."""

from __future__ import annotations

import re
import socket
import ssl

from netgui.net.cancel import CancelToken
from netgui.net.connection import Log
from netgui.net.errors import ConnectionLost, NetTimeout, ProtocolError, translate

MAX_LINE = 8192


class WrongGreeting(ProtocolError):
    """The server answered, but not in the protocol asked for."""


class Wire:
    """Lines in and out of one connection (plain, or TLS after ``upgrade``), each logged."""

    def __init__(self, sock: socket.socket, token: CancelToken, log: Log, where: str):
        self.sock = sock
        self.token = token
        self.log = log
        self.where = where
        self._buffer = b""
        self._remove = token.add_hook(self.close)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def finish(self) -> None:
        self._remove()
        self.close()

    def recv_some(self) -> bytes:
        """The next bytes the server sends (b"" when it closed)."""
        self.token.check()
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise NetTimeout(f"{self.where} sent nothing more in time") from None
        except (ssl.SSLError, OSError) as exc:
            self.token.check()
            raise translate(exc) from exc
        return data

    def line(self) -> str:
        """One line without its end ("" at the end of the stream, then ConnectionLost)."""
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise ProtocolError(f"{self.where} sent a line longer than {MAX_LINE} bytes")
            data = self.recv_some()
            if not data:
                if self._buffer:
                    break
                raise ConnectionLost(f"{self.where} closed the connection")
            self._buffer += data
        raw, _, self._buffer = self._buffer.partition(b"\n")
        text = raw.rstrip(b"\r").decode("utf-8", "replace")
        self.log("<", text)
        return text

    def first_line(self) -> str:
        """The server's first line; says what the server speaks if it is not text."""
        data = self.recv_some()
        if not data:
            raise ConnectionLost(f"{self.where} closed the connection without a word")
        if data[:1] in (b"\x15", b"\x16") and data[1:2] == b"\x03":
            raise WrongGreeting(f"{self.where} answered in TLS, not plain text")
        self._buffer = data
        return self.line()

    def send(self, text: str, shown: str | None = None) -> None:
        self.send_bytes(text.encode("utf-8") + b"\r\n", shown if shown is not None else text)

    def send_bytes(self, data: bytes, shown: str) -> None:
        self.token.check()
        self.log(">", shown)
        try:
            self.sock.sendall(data)
        except (ssl.SSLError, OSError) as exc:
            self.token.check()
            raise translate(exc) from exc

    def upgrade(self, context: ssl.SSLContext, server_hostname: str | None) -> ssl.SSLSocket:
        """STARTTLS: the TLS handshake on this connection (nothing may be buffered)."""
        if self._buffer:
            raise ProtocolError(f"{self.where} sent data before the TLS handshake")
        with self.token.watch(self.sock):
            self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        return self.sock


_REPLY = re.compile(r"^(\d{3})([ -])(.*)$")


def speaks(line: str) -> str:
    """What a server's first line says it speaks (for "wrong greeting" messages)."""
    upper = line.upper()
    if line.startswith("SSH-"):
        return "SSH"
    if line.startswith("HTTP/"):
        return "HTTP"
    if line.startswith(("* OK", "* PREAUTH", "* BYE")):
        return "IMAP"
    if line.startswith(("+OK", "-ERR")):
        return "POP3"
    if line.startswith("NETGUI/1"):
        return "netgui's getfile extension"
    if line.startswith("Welcome to the chat server"):
        return "the line chat protocol"
    if line.startswith((":", "NOTICE ", "ERROR ")) or " NOTICE " in line[:80]:
        return "IRC"
    match = _REPLY.match(line)
    if match and match.group(1) == "220":
        if "FTP" in upper:
            return "FTP"
        if "SMTP" in upper or "MAIL" in upper:
            return "SMTP"
        return "FTP or SMTP (a 220 greeting)"
    return f"something else ({line[:60]!r})"


def read_reply(wire: Wire) -> tuple[int, list[str]]:
    """An SMTP or FTP reply: (code, lines), reading ``NNN-`` continuation lines."""
    lines = []
    while True:
        line = wire.line()
        lines.append(line)
        match = _REPLY.match(line)
        if match and match.group(2) == " ":
            return int(match.group(1)), lines
        if not match and len(lines) == 1:
            raise WrongGreeting(f"{wire.where} speaks {speaks(line)}")
        if len(lines) > 500:
            raise ProtocolError(f"{wire.where} sent a reply of more than 500 lines")
