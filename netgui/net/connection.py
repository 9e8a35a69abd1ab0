"""Opening TCP and TLS connections with timeouts, cancellation and clear errors."""

from __future__ import annotations

import os
import socket
import ssl
from typing import Callable

from .cancel import CancelToken, shutdown_quietly
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


def resolve(host: str, port: int, token: CancelToken | None = None) -> list:
    """The ``getaddrinfo`` results for a stream connection to host:port.

    Raises Cancelled if the token is (or gets) cancelled, otherwise the NetError family
    (ResolveError for an unknown name). Logs nothing: the caller reports the error.
    """
    token = token or CancelToken()
    token.check()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except Exception as exc:
        if token.cancelled:
            raise Cancelled() from exc
        raise translate(exc, host, port) from exc
    token.check()
    return infos


def connect_first(infos: list, timeout: float, token: CancelToken | None = None,
                  log: Log = no_log) -> tuple[socket.socket, tuple]:
    """Connect to the first address in ``infos`` (``resolve``'s list) that answers.

    Returns ``(sock, addr)``. ``log`` gets a line for each address tried. Cancelling the
    token shuts down the socket being connected and raises Cancelled; when every address
    fails, the last address's OSError is raised as it is, for the caller to translate.
    """
    token = token or CancelToken()
    last: BaseException | None = None
    for family, kind, proto, _, addr in infos:
        token.check()
        log("*", f"Connecting to {addr[0]} port {addr[1]}")
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        remove = token.add_hook(lambda s=sock: shutdown_quietly(s))
        try:
            sock.connect(addr)
            return sock, addr
        except OSError as exc:
            last = exc
            sock.close()
            token.check()
        finally:
            remove()
    raise last or OSError("no address to connect to")


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
        sock, addr = connect_first(resolve(host, port, token), timeout, token)
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
        if err is exc:  # already translated (by resolve): keep its own cause
            raise
        raise err from exc


def describe_failure(exc: BaseException, token: CancelToken | None, host=None, port=None) -> NetError:
    """The NetError for ``exc`` raised mid-session: Cancelled if the user cancelled."""
    if token is not None and token.cancelled:
        return Cancelled()
    return translate(exc, host, port)


__all__ = ["open_connection", "resolve", "connect_first", "tls_context", "describe_failure", "DEFAULT_TIMEOUT", "Log", "no_log",
           "NetError"]
