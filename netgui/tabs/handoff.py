"""Hand-off between tabs: the one place that knows which tab opens what.

A link found in a mail body, a chat line or a web page opens in its tab (``open_link``):
``http(s)://`` in Web, ``ftp://``/``ftps://``/``sftp://`` in FTP, ``mailto:`` and
addresses in a compose window, ``irc(s)://`` in Chat, a bare domain or IP address in DNS.
``actions(app, link)`` lists what else a context menu offers (open the host of a URL in
DNS, diagnose it, copy it). Results go the other way: ``attach_to_mail`` (a downloaded file
or a saved response in a new message), ``text_destinations`` (a DNS table or a response
head as text into a new message or a chat window), ``diagnose`` (the connection doctor on a
connection) and ``reveal`` (the tab and item a timeline line belongs to).

Tabs take hand-offs through methods the ROUTES name (``open_url``, ``look_up``,
``paste_targets``/``paste_text``, ``reveal``); windows are named like Tools-menu entries
(module, function) and imported when first used. No tab imports another tab.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, unquote

from netgui.net.links import CHAT, DNS, FTP, MAIL, WEB, Link, classify


@dataclass(frozen=True)
class Route:
    """Where a kind of link goes: a tab and its method, or a window's (module, function)."""

    label: str                 # "Open in Web"
    tab: str = ""              # a tab key ...
    method: str = ""           # ... and the tab's method, called with the Link
    module: str = ""           # or a window: module.function(app, link)
    function: str = ""


ROUTES: dict[str, Route] = {
    WEB: Route("Open in Web", tab="web", method="open_url"),
    FTP: Route("Open in FTP", tab="ftp", method="open_url"),
    CHAT: Route("Open in Chat", tab="chat", method="open_url"),
    DNS: Route("Look up in DNS", tab="dns", method="look_up"),
    MAIL: Route("Write mail", module="netgui.tabs.handoff", function="compose_to"),
}
DOCTOR = ("netgui.tabs.doctor", "open_doctor")
COMPOSE = ("netgui.tabs.mail.compose", "open_compose")
TIMELINE = ("netgui.tabs.timeline", "open_timeline")


def register(kind: str, route: Route) -> None:
    """Send links of ``kind`` somewhere else (a tab added later, a plug-in)."""
    ROUTES[kind] = route


def _call(module: str, function: str, *args, **kw):
    return getattr(importlib.import_module(module), function)(*args, **kw)


def as_link(link: Link | str) -> Link | None:
    return link if isinstance(link, Link) else classify(str(link))


def open_link(app, link: Link | str, kind: str | None = None):
    """Open ``link`` in its tab (or in ``kind``'s); returns what the tab returned."""
    link = as_link(link)
    if link is None:
        return None
    route = ROUTES[kind or link.kind]
    if route.tab:
        tab = app.show_tab(route.tab)
        if tab is None:
            return None
        if kind is not None and kind != link.kind:  # the host of a URL, looked up in DNS …
            link = Link(link.text, kind, link.host if kind == DNS else f"https://{link.host}/", link.host)
        return getattr(tab, route.method)(link)
    return _call(route.module, route.function, app, link)


def actions(app, link: Link) -> list:
    """The context menu for a link: its own tab first, then the others that make sense."""
    items: list = [(ROUTES[link.kind].label, lambda: open_link(app, link))]
    host = link.host
    if host and link.kind != DNS:
        items.append((f"Look up {host} in DNS", lambda: open_link(app, link, DNS)))
    if link.kind == DNS and not _is_address(host):
        items.append((f"Open https://{host}/ in Web", lambda: open_link(app, link, WEB)))
    if link.kind == MAIL and host:
        address = unquote(link.url[7:].split("?", 1)[0])
        items.append((f"Diagnose mail for {host}", lambda: diagnose(app, address)))
    elif host:
        items.append((f"Diagnose {_target(link)}", lambda: diagnose(app, _target(link))))
    items += [None, ("Copy", lambda: _copy(app, link.url if link.kind != MAIL else link.url[7:]))]
    return items


def _is_address(host: str) -> bool:
    from netgui.net.links import is_ip
    return is_ip(host)


def _target(link: Link) -> str:
    """What the doctor is asked about for a link: the URL itself, or the bare host."""
    if link.kind == DNS:
        return link.host
    return link.url.split("#", 1)[0]


def _copy(app, text: str) -> None:
    app.root.clipboard_clear()
    app.root.clipboard_append(text)


# -- windows ----------------------------------------------------------------------------------

def compose_to(app, link: Link):
    """A mailto: link or an address: a new message to it (subject, cc and body from the URL)."""
    address, _, query = link.url[7:].partition("?")
    fields = {k.lower(): v[0] for k, v in parse_qs(query).items()}
    return new_mail(app, to=unquote(address), cc=fields.get("cc", ""),
                    subject=fields.get("subject", ""), body=fields.get("body", ""))


def new_mail(app, to: str = "", cc: str = "", subject: str = "", body: str = "",
             attachments: list[str] | None = None):
    """A compose window filled with these (attachments: local file paths)."""
    window = _call(*COMPOSE, app)
    values = {k: v for k, v in (("to", to), ("cc", cc), ("subject", subject)) if v}
    if values:
        window.form.set_values(values)
    if body:
        window.body.insert("1.0", body)
    if attachments:
        window.attach_files(attachments)
    return window


def attach_to_mail(app, paths: list[str], subject: str = ""):
    """A downloaded file or a saved response, attached to a new message."""
    from pathlib import Path
    names = ", ".join(Path(p).name for p in paths[:3])
    return new_mail(app, subject=subject or names, attachments=[str(p) for p in paths])


def text_destinations(app, text: str, title: str) -> list:
    """Where a piece of text (a DNS table, a response head) can go: a new message, or any
    open chat window."""
    items: list = [("New mail with it", lambda: new_mail(app, subject=title, body=text))]
    chat = app.tabs.get("chat")
    for label, target in (chat.paste_targets() if chat is not None else []):
        items.append((f"Chat: {label}", lambda target=target: _paste(app, target, text)))
    return items


def _paste(app, target, text: str) -> None:
    tab = app.show_tab("chat")
    if tab is not None:
        tab.paste_text(target, text)


def diagnose(app, target: str, run: bool = True):
    """The connection doctor on ``target`` (a host, host:port, URL or address)."""
    return _call(*DOCTOR, app, target, run=run)


def diagnose_action(app, target: str) -> tuple[str, Callable[[], object]] | None:
    """("Diagnose", command) for an error line about ``target`` (None without a target)."""
    if not target:
        return None
    return ("Diagnose", lambda: diagnose(app, target))


def error_action(app, err) -> tuple[str, Callable[[], object]] | None:
    """The Diagnose action for a task's error, if it is about a connection the doctor can check
    (the runner's origin of the failed task rides on the error as ``err.origin``)."""
    from netgui.net.errors import Cancelled, LocalFileError
    origin = getattr(err, "origin", None)
    if origin is None or isinstance(err, (Cancelled, LocalFileError)):
        return None
    return diagnose_action(app, origin.target())


def reveal(app, tab: str, item: str):
    """Show the tab and the item (a conversation, transfer, request…) a timeline line is from."""
    if tab == "doctor":
        return diagnose(app, item, run=False)
    shown = app.show_tab(tab)
    if shown is not None and item:
        shown.reveal(item)
    return shown


def open_timeline(app, query: str = ""):
    return _call(*TIMELINE, app, query=query)
