"""Opening TCP and TLS connections with timeouts, cancellation and clear errors."""

from __future__ import annotations

import os
import socket
import ssl
from typing import Callable

from .cancel import CancelToken
from .errors import Cancelled, NetError, translate

DEFAULT_TIMEOUT = 15.0

Log = Callable[[str, str], None]
"""A transcript callback: ``log(direction, text)`` with direction '>', '<' or '*'."""


def no_log(direction: str, text: str) -> None:
    """A transcript callback that drops everything."""


def tls_context(verify: bool = True, cafile: str | None = None) -> ssl.SSLContext:
    """A client TLS context: verified with hostname checks unless ``verify`` is False.

    ``cafile`` adds a CA bundle (tests use a throwaway CA); the environment variable
    ``NETGUI_CA_FILE`` does the same for a whole process. Where the system has no CA
    store (a bare PyInstaller bundle), certifi's bundle is used if present.
    """
    cafile = cafile or os.environ.get("NETGUI_CA_FILE") or None
    ctx = ssl.create_default_context()
    if cafile:
        ctx.load_verify_locations(cafile)
    elif not ctx.get_ca_certs() and not _has_default_ca_paths():
        try:
            import certifi  # optional; bundled into the executable
            ctx.load_verify_locations(certifi.where())
        except ImportError:
            pass
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _has_default_ca_paths() -> bool:
    paths = ssl.get_default_verify_paths()
    return bool((paths.cafile and os.path.exists(paths.cafile))
                or (paths.capath and os.path.isdir(paths.capath) and os.listdir(paths.capath)))


def open_connection(host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT,
                    token: CancelToken | None = None, tls: ssl.SSLContext | None = None,
                    server_hostname: str | None = None, log: Log = no_log) -> socket.socket:
    """Connect to host:port (and wrap in TLS if ``tls`` is given).

    Raises the NetError family; a cancelled token raises Cancelled even while
    the connect is in progress.
    """
    token = token or CancelToken()
    token.check()
    log("*", f"Connecting to {host}:{port}")
    sock = None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        last: BaseException | None = None
        for family, kind, proto, _, addr in infos:
            token.check()
            sock = socket.socket(family, kind, proto)
            sock.settimeout(timeout)
            remove = token.add_hook(lambda s=sock: _abort(s))
            try:
                sock.connect(addr)
                break
            except OSError as exc:
                last = exc
                sock.close()
                sock = None
                token.check()
            finally:
                remove()
        if sock is None:
            raise last or OSError(f"no address for {host}")
        log("*", f"Connected to {addr[0]} port {addr[1]}")
        if tls is not None:
            with token.watch(sock):
                sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
            log("*", f"TLS {sock.version()} with {sock.cipher()[0]}")
        return sock
    except Cancelled:
        if sock is not None:
            sock.close()
        raise
    except BaseException as exc:
        if sock is not None:
            sock.close()
        if token.cancelled:
            raise Cancelled() from exc
        err = translate(exc, host, port)
        if err.detail:
            log("!", err.detail)
        raise err from exc


def _abort(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def describe_failure(exc: BaseException, token: CancelToken | None, host=None, port=None) -> NetError:
    """The NetError for ``exc`` raised mid-session: Cancelled if the user cancelled."""
    if token is not None and token.cancelled:
        return Cancelled()
    return translate(exc, host, port)


__all__ = ["open_connection", "tls_context", "describe_failure", "DEFAULT_TIMEOUT", "Log", "no_log",
           "NetError"]
