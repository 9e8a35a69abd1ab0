"""The conversation side of the Chat tab: a list of windows, the messages, nick list and input line.

Each connection (an IRC network or a line-chat server) has windows: the server window and
one per channel or private conversation. Messages are kept per window (capped) and only the
shown window is drawn, in batches: whatever arrived in one event-loop turn is inserted with a
single Text call, so a flood of messages costs a few Tcl calls per tick.
"""

from __future__ import annotations

import time
import tkinter as tk
import zlib
from collections import deque
from dataclasses import dataclass, field
from tkinter import font as tkfont
from tkinter import ttk
from typing import Callable

from netgui.ui.links import LINK_TAG, link_pieces
from netgui.ui.theme import LIGHT, Palette, style_text

FLUSH_MS = 80
"""Longest wait before what arrived is drawn (the Text is redrawn at most this often)."""
HISTORY = 1000
"""Lines kept per window (and shown at most): enough to scroll back, small enough to redraw fast."""
NICK_COLOURS_LIGHT = ("#b4009e", "#0063b1", "#107c10", "#ca5010", "#8764b8", "#038387", "#c30052", "#486860")
NICK_COLOURS_DARK = ("#f7a8f0", "#8ac7ff", "#9fd89f", "#ffb27a", "#c5b4f0", "#7fdcd8", "#ff9fc0", "#b0c8c0")


def fold(name: str | None) -> str:
    """Window names compare like IRC nicks and channels (RFC 1459 case mapping)."""
    return (name or "").lower().translate(str.maketrans("[]\\~", "{}|^"))


@dataclass
class ChatWindow:
    """One conversation window and what it holds."""

    conn: "object"
    name: str | None          # None: the connection's server window
    kind: str                 # server / channel / query / line
    lines: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    topic: str = ""
    users: list = field(default_factory=list)  # (prefixes, nick)
    unread: int = 0
    highlighted: bool = False
    item: str = ""
    active: bool = True      # False once parted or disconnected

    @property
    def key(self) -> str:
        return fold(self.name)

    @property
    def title(self) -> str:
        return self.name or self.conn.title


class ConversationView(ttk.Frame):
    """Topic, messages and nick list, input line; the windows list (``tree``) goes in ``sidebar``.

    ``on_input(window, text)`` is called when the user presses Return in the input line.
    """

    def __init__(self, master, sidebar, on_input: Callable[[ChatWindow, str], None], palette: Palette = LIGHT,
                 **kw) -> None:
        super().__init__(master, **kw)
        self.on_input = on_input
        self.palette = palette
        self.current: ChatWindow | None = None
        self.windows: dict[str, ChatWindow] = {}  # tree item -> window
        self._pending: list = []                  # Text insert arguments for the shown window
        self._pending_trim = 0
        self._flush_id = None
        self._last_flush = 0.0
        self._dirty_items: set[str] = set()
        self.own_nicks: dict[object, str] = {}

        # the windows list lives in the tab's sidebar; the rest fills this frame
        self.tree = ttk.Treeview(sidebar, show="tree", selectmode="browse", height=8)
        self.tree.column("#0", width=200)
        self.tree.bind("<<TreeviewSelect>>", self._on_select)
        centre = self
        self.topic_var = tk.StringVar(self, value="")
        self.topic = ttk.Label(centre, textvariable=self.topic_var, anchor="w", padding=(4, 2))
        self.topic.pack(fill="x")
        body = ttk.Frame(centre)
        body.pack(fill="both", expand=True)
        self.text = tk.Text(body, wrap="word", state="disabled", height=16, width=50, undo=False,
                            padx=6, pady=4, spacing1=1)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        self.users = tk.Listbox(body, width=16, activestyle="none", exportselection=False)
        self.users.pack(side="right", fill="y", padx=(4, 0))
        self._users_shown = True
        self._scroll = scroll
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self.users.bind("<Double-Button-1>", self._on_user_double_click)
        entry_row = ttk.Frame(centre)
        entry_row.pack(fill="x", pady=(4, 0))
        self.input = ttk.Entry(entry_row)
        self.input.pack(side="left", fill="x", expand=True)
        self.input.bind("<Return>", self._on_return)
        self.input.bind("<KP_Enter>", self._on_return)
        self.input.bind("<Up>", lambda e: self._recall(-1))
        self.input.bind("<Down>", lambda e: self._recall(1))
        self.input.bind("<Tab>", self._complete_nick)
        self.history: list[str] = []
        self._history_pos = 0
        self.send_button = ttk.Button(entry_row, text="Send", command=self._on_return)
        self.send_button.pack(side="left", padx=(4, 0))
        self.on_user_activate: Callable[[ChatWindow, str], None] | None = None
        self.set_palette(palette)
        self._show_placeholder()

    # -- look -------------------------------------------------------------------
    def set_palette(self, palette: Palette) -> None:
        self.palette = palette
        style_text(self.text, palette)
        style_text(self.users, palette)
        t = self.text
        t.tag_configure("time", foreground=palette.muted)
        t.tag_configure("own", foreground=palette.accent)
        t.tag_configure("info", foreground=palette.muted)
        t.tag_configure("error", foreground=palette.error)
        t.tag_configure("action", foreground=palette.ok)
        t.tag_configure("notice", foreground=palette.warn)
        t.tag_configure("mention", background=palette.highlight_bg)
        t.tag_configure("hint", foreground=palette.muted, justify="center")
        t.tag_configure(LINK_TAG, foreground=palette.accent, underline=True)
        indent = tkfont.Font(font=t.cget("font")).measure("00:00 ")
        t.tag_configure("body", lmargin2=indent)
        colours = NICK_COLOURS_DARK if palette.name == "dark" else NICK_COLOURS_LIGHT
        for i, colour in enumerate(colours):
            t.tag_configure(f"nick{i}", foreground=colour)
        self.tree.tag_configure("unread", font="TkHeadingFont")
        self.tree.tag_configure("highlight", foreground=palette.error, font="TkHeadingFont")
        self.tree.tag_configure("inactive", foreground=palette.muted)

    def _nick_tag(self, nick: str) -> str:
        return f"nick{zlib.crc32(fold(nick).encode()) % len(NICK_COLOURS_LIGHT)}"

    def _show_placeholder(self) -> None:
        if self._users_shown:
            self.users.pack_forget()
            self._users_shown = False
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.insert("end", "\n\nConnect to an IRC network or a line-chat server on the left.\n"
                                "Tools → Start chat server… runs netgui's own line-chat server.", "hint")
        self.text.configure(state="disabled")

    # -- windows --------------------------------------------------------------------
    def add_window(self, conn, name: str | None, kind: str, parent: ChatWindow | None = None,
                   select: bool = False) -> ChatWindow:
        window = ChatWindow(conn, name, kind)
        window.item = self.tree.insert(parent.item if parent else "", "end", text=window.title, open=True)
        self.windows[window.item] = window
        if select or self.current is None:
            self.select(window)
        return window

    def remove_window(self, window: ChatWindow) -> None:
        if window.item in self.windows:
            for child in self.tree.get_children(window.item):
                self.windows.pop(child, None)
            self.windows.pop(window.item, None)
            was_current = self.current is window or (self.current and self.current.conn is window.conn
                                                     and window.kind in ("server", "line"))
            parent = self.tree.parent(window.item)
            self.tree.delete(window.item)
            if was_current or self.current is None or self.current.item not in self.windows:
                fallback = self.windows.get(parent) or next(iter(self.windows.values()), None)
                if fallback is not None:
                    self.select(fallback)
                else:
                    self.current = None
                    self.topic_var.set("")
                    self.users.delete(0, "end")
                    self._show_placeholder()

    def select(self, window: ChatWindow) -> None:
        if self.tree.selection() != (window.item,):
            self.tree.selection_set(window.item)
            self.tree.see(window.item)
        self._show(window)

    def _on_select(self, event=None) -> None:
        selection = self.tree.selection()
        window = self.windows.get(selection[0]) if selection else None
        if window is not None and window is not self.current:
            self._show(window)

    def _show(self, window: ChatWindow) -> None:
        self.current = window
        window.unread = 0
        window.highlighted = False
        self._dirty_items.add(window.item)
        self._pending = []
        self._pending_trim = 0
        args = []
        for entry in window.lines:
            args.extend(entry)
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        if args:
            self.text.insert("end", *args)
        self.text.configure(state="disabled")
        self.text.see("end")
        self._refresh_users(window)
        self.topic_var.set(window.topic if window.kind == "channel" else self._subtitle(window))
        self._schedule()
        self.input.focus_set()

    def _subtitle(self, window: ChatWindow) -> str:
        if window.kind == "query":
            return f"Private conversation with {window.name}"
        return getattr(window.conn, "subtitle", "")

    # -- content --------------------------------------------------------------------
    def add_line(self, window: ChatWindow, text: str, *, nick: str | None = None, style: str = "privmsg",
                 own: bool = False, highlight: bool = False, when: float | None = None, count: bool = True) -> None:
        """Append one line to ``window`` (drawn in the next batch if it is shown)."""
        stamp = time.strftime("%H:%M", time.localtime(when or time.time()))
        entry: list = [f"{stamp} ", "time"]
        body_tags = ("mention",) if highlight else ()
        if style in ("privmsg", "notice") and nick is not None:
            who = f"-{nick}- " if style == "notice" else f"<{nick}> "
            entry += [who, ("own",) if own else (self._nick_tag(nick),),
                      *link_pieces(text + "\n", body_tags + (("notice",) if style == "notice" else ()))]
        elif style == "action" and nick is not None:
            entry += link_pieces(f"* {nick} {text}\n", ("action",) + body_tags)
        elif style == "line":
            entry += link_pieces(text + "\n", ("own",) if own else ())
        else:
            entry += [f"— {text}\n" if style != "error" else f"! {text}\n",
                      ("error",) if style == "error" else ("info",)]
        # every segment also carries "body", whose hanging indent lines wrapped text up after the time
        entry = [part if i % 2 == 0 else (tuple(part) if isinstance(part, tuple) else (part,)) + ("body",)
                 for i, part in enumerate(entry)]
        full = len(window.lines) == window.lines.maxlen
        window.lines.append(tuple(entry))
        if window is self.current:
            self._pending.extend(entry)
            if full:
                self._pending_trim += 1
            self._schedule()
        elif count and style in ("privmsg", "action", "notice", "line") and not own:
            window.unread += 1
            window.highlighted = window.highlighted or highlight
            self._dirty_items.add(window.item)
            self._schedule()

    def set_topic(self, window: ChatWindow, topic: str) -> None:
        window.topic = topic
        if window is self.current:
            self.topic_var.set(topic)

    def set_users(self, window: ChatWindow, users: list) -> None:
        window.users = users
        if window is self.current:
            self._refresh_users(window)

    def _refresh_users(self, window: ChatWindow) -> None:
        want = window.kind == "channel"
        if want != self._users_shown:
            self._users_shown = want
            if want:
                self.users.pack(side="right", fill="y", padx=(4, 0), before=self._scroll)
            else:
                self.users.pack_forget()
        self.users.delete(0, "end")
        if window.users:
            self.users.insert("end", *(f"{prefixes[:1]}{nick}" for prefixes, nick in window.users))
            own = self.own_nicks.get(window.conn)
            for index, (_, nick) in enumerate(window.users):
                if own and fold(nick) == fold(own):
                    self.users.itemconfigure(index, foreground=self.palette.accent)

    def set_active(self, window: ChatWindow, active: bool) -> None:
        window.active = active
        self._dirty_items.add(window.item)
        self._schedule()

    def rename(self, window: ChatWindow, name: str | None) -> None:
        window.name = name
        self._dirty_items.add(window.item)
        self._schedule()

    # -- batching ---------------------------------------------------------------------
    def _schedule(self) -> None:
        # Draw at most every FLUSH_MS: under a flood the task runner delivers many small
        # batches, and redrawing the Text for each would keep Tk busy laying out lines.
        if self._flush_id is None:
            wait = int(FLUSH_MS - (time.monotonic() - self._last_flush) * 1000)
            self._flush_id = self.after(wait, self.flush) if wait > 0 else self.after_idle(self.flush)

    def flush(self) -> None:
        """Draw what arrived since the last flush: one insert for the shown window."""
        self._last_flush = time.monotonic()
        if self._flush_id is not None:
            try:
                self.after_cancel(self._flush_id)
            except tk.TclError:
                pass
            self._flush_id = None
        if self._pending:
            pending, self._pending = self._pending, []
            trim, self._pending_trim = self._pending_trim, 0
            at_end = self.text.yview()[1] >= 0.999
            self.text.configure(state="normal")
            self.text.insert("end", *pending)
            if trim:
                self.text.delete("1.0", f"{trim + 1}.0")
            self.text.configure(state="disabled")
            if at_end:
                self.text.see("end")
        for item in self._dirty_items:
            window = self.windows.get(item)
            if window is None:
                continue
            label = window.title + (f"  ({window.unread})" if window.unread else "")
            tags = (("highlight",) if window.highlighted else ("unread",) if window.unread else ()) + \
                (() if window.active else ("inactive",))
            self.tree.item(item, text=label, tags=tags)
        self._dirty_items.clear()

    def shown_text(self) -> str:
        """What the message pane shows (tests and copy)."""
        self.flush()
        return self.text.get("1.0", "end-1c")

    # -- input ------------------------------------------------------------------------------
    def _on_return(self, event=None) -> str:
        text = self.input.get()
        if not text.strip() or self.current is None:
            return "break"
        self.input.delete(0, "end")
        if not self.history or self.history[-1] != text:
            self.history.append(text)
            del self.history[:-100]
        self._history_pos = len(self.history)
        self.on_input(self.current, text)
        return "break"

    def _recall(self, step: int) -> str:
        """Up/Down: walk through what was typed before."""
        if not self.history:
            return "break"
        self._history_pos = max(0, min(len(self.history), self._history_pos + step))
        self.input.delete(0, "end")
        if self._history_pos < len(self.history):
            self.input.insert(0, self.history[self._history_pos])
        return "break"

    def _complete_nick(self, event=None) -> str:
        """Tab: complete the nick being typed from the shown channel's nick list."""
        window = self.current
        if window is None or not window.users:
            return "break"
        cursor = self.input.index("insert")
        text = self.input.get()
        start = len(text[:cursor].rsplit(" ", 1)[0]) + 1 if " " in text[:cursor] else 0
        word = fold(text[start:cursor])
        if not word:
            return "break"
        matches = [nick for _, nick in window.users if fold(nick).startswith(word)]
        if matches:
            nick = sorted(matches, key=fold)[0]
            suffix = ": " if start == 0 else " "
            self.input.delete(start, cursor)
            self.input.insert(start, nick + suffix)
        return "break"

    def _on_user_double_click(self, event=None) -> None:
        selection = self.users.curselection()
        if selection and self.current is not None and self.on_user_activate:
            nick = self.users.get(selection[0]).lstrip("~&@%+")
            self.on_user_activate(self.current, nick)
