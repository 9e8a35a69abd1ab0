"""The tabs and tools the main window offers, imported lazily by name.

Each tab module is imported only when its tab is first shown, which keeps startup fast.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TabSpec:
    """A notebook tab: ``module.cls`` is a ``netgui.tabs.base.Tab`` subclass."""

    key: str
    title: str
    module: str
    cls: str


@dataclass(frozen=True)
class ToolSpec:
    """A Tools-menu entry: ``module.func(app)`` opens it."""

    label: str
    module: str
    func: str
    accelerator: str = ""   # shown in the menu ("Ctrl+Shift+T")
    sequence: str = ""      # the key binding ("<Control-Key-T>")


TABS: list[TabSpec] = [
    TabSpec("mail", "Mail", "netgui.tabs.mail", "MailTab"),
    TabSpec("ftp", "FTP / SFTP", "netgui.tabs.ftp", "FtpTab"),
    TabSpec("web", "Web", "netgui.tabs.web", "WebTab"),
    TabSpec("chat", "Chat", "netgui.tabs.chat", "ChatTab"),
    TabSpec("dns", "DNS", "netgui.tabs.dns", "DnsTab"),
    TabSpec("getfile", "Getfile", "netgui.tabs.getfile", "GetfileTab"),
]

TOOLS: list[ToolSpec] = [
    ToolSpec("Serve a folder (getfile)…", "netgui.tabs.getfile.server_window", "open"),
    ToolSpec("Start chat server…", "netgui.tabs.chat.server_window", "open"),
    ToolSpec("Write mail…", "netgui.tabs.mail.compose", "new_message"),
    ToolSpec("Mail outbox and drafts…", "netgui.tabs.mail.outbox", "open_outbox"),
    ToolSpec("Timeline…", "netgui.tabs.timeline", "open_timeline", "Ctrl+Shift+T", "<Control-Key-T>"),
    ToolSpec("Connection doctor…", "netgui.tabs.doctor", "open_doctor", "Ctrl+Shift+D", "<Control-Key-D>"),
]
