"""The error family every protocol core raises.

Each error carries a one-line human message (``str(err)``) for the UI and an
optional ``detail`` string for the transcript. ``translate`` turns the
exceptions that sockets, ssl and the standard library raise into this family.
"""

from __future__ import annotations

import errno
import socket
import ssl


class NetError(Exception):
    """Base of all network errors: ``str()`` is one line a user can read."""

    def __init__(self, message: str, *, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class ResolveError(NetError):
    """The host name could not be resolved."""


class ConnectError(NetError):
    """The connection could not be made, or was lost."""


class ConnectionLost(ConnectError):
    """An established connection broke (reset, closed early, peer gone)."""


class NetTimeout(NetError):
    """The peer did not answer in time."""


class TLSError(NetError):
    """The TLS handshake or session failed."""


class CertificateError(TLSError):
    """The peer's certificate was not trusted (unknown CA, wrong host, expired)."""


class AuthError(NetError):
    """The server refused the credentials."""


class TokenRejected(AuthError):
    """The server refused an OAuth2 access token (expired, revoked, wrong scope): the caller
    refreshes it and tries once more."""


class SignInError(AuthError):
    """An OAuth2 sign-in did not complete (denied, refused, timed out, not set up); nothing
    was stored."""


class SignInNeeded(SignInError):
    """The stored OAuth2 grant is gone or was revoked: the user must sign in again."""


class ProtocolError(NetError):
    """The peer sent something the protocol does not allow, or refused a request."""


class LocalFileError(NetError):
    """A local file or folder could not be read or written (not a network problem)."""


class Cancelled(NetError):
    """The user cancelled the operation."""

    def __init__(self, message: str = "Cancelled", **kw):
        super().__init__(message, **kw)


def _where(host, port) -> str:
    if host is None:
        return "the server"
    if port is None:
        return str(host)
    if ":" in str(host):
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def translate(exc: BaseException, host=None, port=None) -> NetError:
    """Map a low-level exception to the NetError family with a human message."""
    if isinstance(exc, NetError):
        return exc
    where = _where(host, port)
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, socket.gaierror):
        return ResolveError(f"Cannot find host {host!s}" if host else "Cannot resolve the host name",
                            detail=detail)
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = getattr(exc, "verify_message", "") or str(exc)
        return CertificateError(f"Certificate of {host or 'the server'} is not trusted: {reason}",
                                detail=detail)
    if isinstance(exc, ssl.CertificateError):
        return CertificateError(f"Certificate of {host or 'the server'} is not trusted: {exc}",
                                detail=detail)
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", None) or str(exc)
        return TLSError(f"TLS failed with {where}: {reason}", detail=detail)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return NetTimeout(f"{where} did not answer in time", detail=detail)
    if isinstance(exc, ConnectionRefusedError):
        return ConnectError(f"Connection refused by {where}", detail=detail)
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)):
        return ConnectionLost(f"Connection to {where} was lost", detail=detail)
    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        reason = exc.strerror or type(exc).__name__
        if exc.errno == errno.ENOSPC:
            reason = "the disk is full"
        return LocalFileError(f"Cannot use {exc.filename}: {reason}", detail=detail)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return LocalFileError("Cannot write: the disk is full", detail=detail)
    if isinstance(exc, OSError):
        code = exc.errno
        if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return ConnectError(f"{where} is unreachable from this network", detail=detail)
        if code == errno.EADDRNOTAVAIL:
            return ConnectError(f"Cannot connect to {where}: address not available", detail=detail)
        text = exc.strerror or str(exc) or type(exc).__name__
        return ConnectError(f"Network error with {where}: {text}", detail=detail)
    if isinstance(exc, UnicodeError):
        return ProtocolError(f"{where} sent text that cannot be decoded", detail=detail)
    return NetError(f"Unexpected error: {exc or type(exc).__name__}", detail=detail)


