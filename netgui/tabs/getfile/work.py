"""What the Getfile tab runs in worker threads (through ``app.runner``)."""

from __future__ import annotations

from netgui.net.connection import tls_context
from netgui.net.getfile.client import fetch, list_dir


def _tls(use_tls: bool, verify: bool):
    return tls_context(verify=verify) if use_tls else None


def download(ctx, host: str, port: int, remote: str, folder: str, *, use_tls: bool = False,
             verify: bool = True):
    """Fetch one file; progress, transcript and cancel go through ``ctx``."""
    ctx.status(f"Connecting to {host}:{port}")
    return fetch(host, port, remote, folder, token=ctx.token, progress=ctx.progress, log=ctx.log,
                 tls=_tls(use_tls, verify))


def listing(ctx, host: str, port: int, remote_dir: str, *, use_tls: bool = False,
            verify: bool = True):
    """List one remote folder (netgui servers only)."""
    ctx.status(f"Listing {remote_dir or '/'} on {host}:{port}")
    return list_dir(host, port, remote_dir, token=ctx.token, log=ctx.log, tls=_tls(use_tls, verify))
