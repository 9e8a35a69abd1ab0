"""The Chat tab: IRC networks and line-chat servers, one window per channel or conversation.

Connections run as tasks (``netgui.net.chat.irc.IrcSession`` / ``netgui.net.chat.linechat.run_session``).
What the user types goes to the worker through a ``queue.Queue`` outbox; what the worker
receives comes back as batches through ``ctx.event`` and is drawn by ``ConversationView``.
"""

from __future__ import annotations

import queue
import re
from tkinter import ttk

from netgui.net.chat.irc import DEFAULT_PORT, DEFAULT_TLS_PORT, IrcProfile, IrcSession
from netgui.net.chat.linechat import DEFAULT_PORT as LINE_PORT
from netgui.net.chat.linechat import run_session
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.form import Field, Form
from netgui.ui.links import bind_links
from netgui.ui.transcript import TranscriptPane

from .view import ChatWindow, ConversationView, fold

PROFILE_KIND = "chat.irc"
SECURITY = ("TLS (verified)", "TLS, certificate NOT checked", "No encryption")
VARIANTS = ("Detect", "Per line", "Buffered until SEND")
VARIANT_CODES = dict(zip(VARIANTS, ("auto", "line", "send")))
_NICK_RE = re.compile(r"^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]*$")
_LINE_RE = re.compile(r"^(\S{1,64}): (.*)$", re.S)


def _nick_error(value: str) -> str | None:
    if value and not _NICK_RE.match(value):
        return "Letters, digits and []\\`_^{|}- only"
    return None


def _channels(text: str) -> list[str]:
    names = [n for n in re.split(r"[\s,]+", text or "") if n]
    return [n if n[0] in "#&+!" else "#" + n for n in names]


class Connection:
    """The Tk side of one connection: its task, outbox and windows."""

    def __init__(self, kind: str, title: str, subtitle: str) -> None:
        self.kind = kind          # "irc" or "line"
        self.title = title
        self.subtitle = subtitle
        self.outbox: queue.Queue = queue.Queue()
        self.task = None
        self.server: ChatWindow | None = None
        self.windows: dict[str, ChatWindow] = {}
        self.nick = ""
        self.peer = ""
        self.connected = False
        self.follow_join = False
        self.removed = False  # the user closed its server window; late events are dropped
        self.item = ""        # the timeline's name for it ("irc host:port"), see ChatTab.reveal


class ChatTab(Tab):
    title = "Chat"
    key = "chat"

    def __init__(self, master, app):
        super().__init__(master, app)
        self.connections: list[Connection] = []

        paned = ttk.PanedWindow(self, orient="horizontal")
        paned.pack(fill="both", expand=True)
        sidebar = ttk.Frame(paned)
        paned.add(sidebar, weight=0)
        right = ttk.PanedWindow(paned, orient="vertical")
        paned.add(right, weight=1)

        self.forms = ttk.Notebook(sidebar)
        self.forms.pack(side="top", fill="x")
        self.irc_form = self._build_irc_form(self.forms)
        self.line_form = self._build_line_form(self.forms)

        buttons = ttk.Frame(sidebar)
        buttons.pack(side="bottom", fill="x", pady=(4, 0))
        ttk.Label(sidebar, text="Conversations", style="Muted.TLabel").pack(side="top", anchor="w", pady=(6, 0))
        self.view = ConversationView(right, sidebar, on_input=self._on_input, palette=app.theme)
        self.view.on_user_activate = self._open_query
        self.view.tree.configure(height=4)
        self.view.tree.pack(side="top", fill="both", expand=True)
        self.close_button = ttk.Button(buttons, text="Close window", command=self.close_current)
        self.close_button.pack(side="left")
        self.disconnect_button = ttk.Button(buttons, text="Disconnect", command=self.disconnect_current)
        self.disconnect_button.pack(side="left", padx=(4, 0))
        right.add(self.view, weight=4)
        self.transcript = TranscriptPane(right, palette=app.theme)
        self.transcript.text.configure(height=4)
        right.add(self.transcript, weight=1)
        bind_links(self.view.text, lambda link: handoff.open_link(app, link),
                   lambda link: handoff.actions(app, link), colour=app.theme.accent)

    # -- forms --------------------------------------------------------------------
    def _build_irc_form(self, notebook) -> Form:
        frame = ttk.Frame(notebook, padding=6)
        notebook.add(frame, text="IRC network")
        profiles = sorted(self.app.settings.profiles(PROFILE_KIND))
        form = Form(frame, [
            Field("profile", "Profile", kind="choice", choices=profiles, editable=True, width=18, remember=False,
                  default=""),
            Field("host", "Server", required=True, width=18, default="irc.libera.chat"),
            Field("port", "Port", kind="port", default=DEFAULT_TLS_PORT),
            Field("security", "Security", kind="choice", choices=SECURITY, default=SECURITY[0], width=18),
            Field("nick", "Nick", required=True, width=18, validator=_nick_error),
            Field("alt_nick", "Alternative nick", width=18, validator=_nick_error),
            Field("real_name", "Real name", width=18),
            Field("account", "SASL account", width=18, validator=_nick_error),
            Field("password", "SASL password", kind="password", width=18),
            Field("channels", "Channels", width=18),
        ], on_submit=self.connect_irc, submit_text="Connect", settings=self.app.settings,
            secrets=self.app.secrets, store_key="chat.irc")
        form.pack(fill="x")
        form.widgets["profile"].bind("<<ComboboxSelected>>", lambda e: self.load_profile(form.raw("profile")))
        form.widgets["security"].bind("<<ComboboxSelected>>", lambda e: self._security_changed())
        form.add_button("Save", self.save_profile)
        form.add_button("Delete", self.delete_profile)
        return form

    def _build_line_form(self, notebook) -> Form:
        frame = ttk.Frame(notebook, padding=6)
        notebook.add(frame, text="Line chat")
        form = Form(frame, [
            Field("host", "Server", required=True, width=18, default="127.0.0.1"),
            Field("port", "Port", kind="port", default=LINE_PORT),
            Field("variant", "Server kind", kind="choice", choices=VARIANTS, default=VARIANTS[0], width=18),
        ], on_submit=self.connect_line, submit_text="Connect", settings=self.app.settings,
            store_key="chat.line")
        form.pack(fill="x")
        return form

    def _security_changed(self) -> None:
        """Switch between the usual plain (6667) and TLS (6697) ports when the port was the usual one."""
        form = self.irc_form
        tls = form.raw("security") != SECURITY[2]
        port = form.values()["port"]
        if tls and port == DEFAULT_PORT:
            form.set("port", DEFAULT_TLS_PORT)
        elif not tls and port == DEFAULT_TLS_PORT:
            form.set("port", DEFAULT_PORT)

    def _secret_account(self, name: str) -> str:
        return f"{PROFILE_KIND}/{name}/password"

    def save_profile(self) -> None:
        form = self.irc_form
        name = str(form.raw("profile")).strip() or str(form.raw("host")).strip()
        if not form.validate() or not name:
            form.set_status("Fill in the server and nick, and name the profile.", "error")
            return
        values = form.values()
        password = values.pop("password")
        values.pop("profile")
        self.app.settings.save_profile(PROFILE_KIND, name, values)
        self.app.secrets.set(self._secret_account(name), password)
        form.widgets["profile"].configure(values=sorted(self.app.settings.profiles(PROFILE_KIND)))
        form.set("profile", name)
        form.set_status(f"Saved profile {name}", "ok")

    def load_profile(self, name: str) -> None:
        data = self.app.settings.profile(PROFILE_KIND, name)
        if data is None:
            return
        form = self.irc_form
        form.set_values(data)
        form.set("password", self.app.secrets.get(self._secret_account(name)) or "")
        form.set_status(f"Loaded profile {name}")

    def delete_profile(self) -> None:
        form = self.irc_form
        name = str(form.raw("profile")).strip()
        if not name or self.app.settings.profile(PROFILE_KIND, name) is None:
            form.set_status("Pick a saved profile to delete.", "error")
            return
        self.app.settings.delete_profile(PROFILE_KIND, name)
        self.app.secrets.delete(self._secret_account(name))
        form.widgets["profile"].configure(values=sorted(self.app.settings.profiles(PROFILE_KIND)))
        form.set("profile", "")
        form.set_status(f"Deleted profile {name}", "ok")

    # -- connecting ------------------------------------------------------------------
    def connect_irc(self, values: dict) -> Connection:
        tls = values["security"] != SECURITY[2]
        profile = IrcProfile(values["host"], values["port"], tls=tls, verify=values["security"] != SECURITY[1],
                             nick=values["nick"], alt_nick=values["alt_nick"], real_name=values["real_name"],
                             username=values["account"],
                             password=values["password"], channels=_channels(values["channels"]))
        if values["password"]:
            self.transcript.secrets.append(values["password"])
        subtitle = f"{profile.host}:{profile.port}" + (" (TLS)" if profile.tls else "") + \
            (" — certificate NOT checked" if profile.tls and not profile.verify else "")
        conn = Connection("irc", profile.host, subtitle)
        conn.item = f"irc {profile.host}:{profile.port}"
        conn.nick = profile.nick
        conn.server = self.view.add_window(conn, None, "server", select=True)
        self.connections.append(conn)
        self.irc_form.set_busy(True, f"Connecting to {profile.host}:{profile.port}")
        if profile.tls and not profile.verify:
            self.view.add_line(conn.server, "TLS certificate checks are OFF for this connection", style="error")
        conn.task = self.track(self.app.runner.submit(
            _irc_worker, profile, conn.outbox, name=f"IRC {profile.host}",
            origin=self.origin(conn.item, "ircs" if profile.tls else "irc", profile.host, profile.port,
                               f"chat{len(self.connections)}", secrets=(profile.password,)),
            on_event=lambda kind, payload: self._on_irc_events(conn, payload),
            on_log=self.transcript.append, on_status=self.app.set_status,
            on_error=lambda err: self._on_error(conn, self.irc_form, err),
            on_done=lambda task: self._on_done(conn, self.irc_form)))
        return conn

    def connect_line(self, values: dict) -> Connection:
        host, port = values["host"], values["port"]
        variant = VARIANT_CODES.get(values["variant"], "auto")
        conn = Connection("line", f"{host}:{port}", f"Line chat at {host}:{port}")
        conn.item = f"line {host}:{port}"
        conn.server = self.view.add_window(conn, None, "line", select=True)
        self.connections.append(conn)
        self.line_form.set_busy(True, f"Connecting to {host}:{port}")
        conn.task = self.track(self.app.runner.submit(
            _line_worker, host, port, variant, conn.outbox, name=f"Line chat {host}:{port}",
            origin=self.origin(conn.item, "chat", host, port, f"chat{len(self.connections)}"),
            on_event=lambda kind, payload: self._on_line_event(conn, kind, payload),
            on_log=self.transcript.append, on_status=self.app.set_status,
            on_error=lambda err: self._on_error(conn, self.line_form, err),
            on_done=lambda task: self._on_done(conn, self.line_form)))
        return conn

    def _on_error(self, conn: Connection, form: Form, err) -> None:
        form.set_busy(False)
        if conn.removed:
            return
        if type(err).__name__ == "Cancelled":
            form.set_status("Disconnected")
            return
        form.set_status(str(err), "error", action=handoff.error_action(self.app, err))
        if conn.server is not None:
            self.view.add_line(conn.server, str(err), style="error")

    def _on_done(self, conn: Connection, form: Form) -> None:
        if form.busy:
            form.set_busy(False)
        conn.connected = False
        if conn.removed:
            return
        for window in [conn.server, *conn.windows.values()]:
            if window is not None:
                self.view.set_active(window, False)
        self.view.flush()

    # -- incoming ----------------------------------------------------------------------
    def _window(self, conn: Connection, name: str | None, create: bool = False, select: bool = False):
        if not name:
            return conn.server
        window = conn.windows.get(fold(name))
        if window is None and create:
            kind = "channel" if name[0] in "#&+!" else "query"
            window = self.view.add_window(conn, name, kind, parent=conn.server, select=select)
            conn.windows[fold(name)] = window
        elif window is not None and select:
            self.view.select(window)
        return window

    def _on_irc_events(self, conn: Connection, events) -> None:
        if conn.removed:
            return
        view = self.view
        for ev in events:
            kind = ev.kind
            if kind == "message":
                window = self._window(conn, ev.window, create=True)
                view.add_line(window, ev.text, nick=ev.nick, style=ev.style, own=ev.own,
                              highlight=ev.highlight, when=ev.time)
            elif kind == "info":
                window = self._window(conn, ev.window)
                if window is None:
                    if ev.data == "if-open" or isinstance(ev.data, tuple):
                        continue
                    window = conn.server
                if isinstance(ev.data, tuple) and ev.data[0] == "rename":
                    conn.windows.pop(fold(window.name), None)
                    conn.windows[fold(ev.data[1])] = window
                    view.rename(window, ev.data[1])
                view.add_line(window, ev.text, style="error" if ev.style == "error" else "info", when=ev.time)
            elif kind == "users":
                window = self._window(conn, ev.window)
                if window is not None:
                    view.set_users(window, ev.data)
            elif kind == "topic":
                window = self._window(conn, ev.window, create=True)
                view.set_topic(window, ev.text)
            elif kind == "open":
                # follow a join the user asked for, and the first channel after connecting
                select = (ev.data == "focus" or conn.follow_join or view.current is None
                          or view.current is conn.server)
                conn.follow_join = False
                window = self._window(conn, ev.window, create=True, select=select)
                view.set_active(window, True)
            elif kind == "close":
                window = conn.windows.pop(fold(ev.window), None)
                if window is not None:
                    view.remove_window(window)
            elif kind == "nick":
                conn.nick = ev.data
                view.own_nicks[conn] = ev.data
                conn.subtitle = conn.subtitle.split(" as ")[0] + f" as {ev.data}"
                if view.current is conn.server:
                    view.topic_var.set(conn.subtitle)
            elif kind == "state":
                self._irc_state(conn, ev)
            elif kind == "network":
                conn.title = ev.data
                view.rename(conn.server, None)

    def _irc_state(self, conn: Connection, ev) -> None:
        state = ev.data
        self.view.add_line(conn.server, ev.text, style="info", when=ev.time)
        if state == "connected":
            conn.connected = True
            self.irc_form.set_busy(False)
            self.irc_form.set_status("Connected", "ok")
            self.view.set_active(conn.server, True)
        elif state in ("disconnected", "reconnecting"):
            conn.connected = False
            for window in conn.windows.values():
                self.view.set_active(window, False)
            if state == "reconnecting":
                self.irc_form.set_status(f"{conn.title}: {ev.text}")
        self.app.set_status(f"{conn.title}: {ev.text}")

    def _on_line_event(self, conn: Connection, kind: str, lines) -> None:
        if conn.removed:
            return
        if kind == "variant":
            conn.subtitle = f"{conn.subtitle.split(' (')[0]} ({lines})"
            if self.view.current is conn.server:
                self.view.topic_var.set(conn.subtitle)
            return
        for line in lines:
            if not conn.peer and line.startswith("Welcome to the chat server, "):
                conn.peer = line[len("Welcome to the chat server, "):].strip()
                conn.connected = True
                self.line_form.set_busy(False)
                self.line_form.set_status("Connected", "ok")
                self.view.add_line(conn.server, line, style="info", count=False)
                continue
            m = _LINE_RE.match(line)
            if m:
                self.view.add_line(conn.server, m.group(2), nick=m.group(1), own=m.group(1) == conn.peer)
            else:
                self.view.add_line(conn.server, line, style="line")

    # -- outgoing ------------------------------------------------------------------------
    def _on_input(self, window: ChatWindow, text: str) -> None:
        conn = window.conn
        command = text.strip().split(" ", 1)[0].lower() if text.startswith("/") else ""
        if command == "/clear":
            window.lines.clear()
            self.view.select(window)
            return
        if command == "/close":
            self.close_window(window)
            return
        if conn.task is None or not conn.task.running:
            self.view.add_line(window, "Not connected", style="error")
            return
        if conn.kind == "line":
            conn.outbox.put(text)
            return
        if command in ("/join", "/j"):
            conn.follow_join = True
        conn.outbox.put(("input", window.name if window.kind != "server" else None, text))

    def _open_query(self, window: ChatWindow, nick: str) -> None:
        conn = window.conn
        if conn.kind == "irc" and fold(nick) != fold(conn.nick):
            self._window(conn, nick, create=True, select=True)

    def current_connection(self) -> Connection | None:
        return self.view.current.conn if self.view.current is not None else None

    def close_current(self) -> None:
        if self.view.current is not None:
            self.close_window(self.view.current)

    def close_window(self, window: ChatWindow) -> None:
        """Part a channel, close a conversation, or remove a finished connection."""
        conn = window.conn
        if window.kind == "channel" and window.active and conn.task is not None and conn.task.running:
            conn.outbox.put(("input", window.name, f"/part {window.name}"))
        elif window.kind in ("channel", "query"):
            conn.windows.pop(window.key, None)
            self.view.remove_window(window)
        else:  # the server window: disconnect and remove the whole connection
            self.disconnect(conn)
            conn.removed = True
            self.view.remove_window(window)
            if conn in self.connections:
                self.connections.remove(conn)

    def disconnect_current(self) -> None:
        conn = self.current_connection()
        if conn is not None:
            self.disconnect(conn)

    def disconnect(self, conn: Connection) -> None:
        task = conn.task
        if task is None or not task.running:
            return
        if conn.kind == "irc" and conn.connected:
            conn.outbox.put(("quit", "netgui"))
            self.after(3000, lambda: task.running and task.cancel())
        else:
            task.cancel()

    # -- hand-off ----------------------------------------------------------------------
    def open_url(self, link) -> None:
        """An irc:// or ircs:// link: the IRC form filled in (channels from the path), and
        connected if a nick is set."""
        from urllib.parse import unquote, urlsplit
        parts = urlsplit(link.url)
        tls = parts.scheme.lower() == "ircs"
        channels = [c for c in unquote((parts.path or "").lstrip("/") + ("#" + parts.fragment if parts.fragment else ""))
                    .split(",") if c]
        form = self.irc_form
        self.forms.select(0)
        form.set_values({"host": parts.hostname or "", "security": SECURITY[0] if tls else SECURITY[2],
                         "port": parts.port or (DEFAULT_TLS_PORT if tls else DEFAULT_PORT),
                         "channels": " ".join(channels), "profile": ""})
        if not str(form.raw("nick")).strip():
            form.set_status("Choose a nick, then Connect", "error")
            form.widgets["nick"].focus_set()
            return
        form.submit()

    def paste_targets(self) -> list[tuple[str, ChatWindow]]:
        """The windows text can be sent to (connected channels, conversations, line chats)."""
        out = []
        for conn in self.connections:
            if not conn.connected or conn.removed:
                continue
            windows = [conn.server] if conn.kind == "line" else \
                [w for w in conn.windows.values() if w.active]
            out += [(f"{w.title} ({conn.title})" if w.name else conn.title, w) for w in windows if w]
        return out

    def paste_text(self, window: ChatWindow, text: str, limit: int = 40) -> None:
        """Send ``text`` to ``window``, line by line (at most ``limit`` lines; a line that
        starts with / is sent as text, not as a command)."""
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        self.view.select(window)
        for line in lines[:limit]:
            self._on_input(window, " " + line if line.startswith("/") else line)
        if len(lines) > limit:
            self.view.add_line(window, f"{len(lines) - limit} more lines were not sent", style="info")

    def reveal(self, item: str) -> None:
        """A connection ("irc host:port" or "line host:port"): its server window is shown."""
        for conn in reversed(self.connections):
            if conn.item == item and conn.server is not None and not conn.removed:
                self.view.select(conn.server)
                return

    def on_theme_changed(self, palette) -> None:
        self.view.set_palette(palette)
        self.transcript.set_palette(palette)

    def on_shown(self) -> None:
        self.view.input.focus_set()


# -- workers (run in the task runner's threads) ----------------------------------------------

def _irc_worker(ctx, profile: IrcProfile, outbox: queue.Queue) -> None:
    session = IrcSession(profile, lambda events: ctx.event("irc", events), token=ctx.token, log=ctx.log,
                         outbox=outbox)
    session.run()


def _line_worker(ctx, host: str, port: int, variant: str, outbox: queue.Queue) -> None:
    announced = []

    def on_status(text: str) -> None:
        ctx.status(text)
        if "(" in text and not announced:
            announced.append(text)
            ctx.event("variant", text[text.index("(") + 1:text.rindex(")")])

    run_session(host, port, variant=variant, outbox=outbox, on_lines=lambda lines: ctx.event("lines", lines),
                token=ctx.token, log=ctx.log, on_status=on_status)
