"""The DNS tab: dig-quality lookups over UDP, TCP, TLS and HTTPS with EDNS options, +trace
from the root, DNSSEC validation that explains itself, Bulk and Compare panes and a History.

Work runs through ``app.runner`` (the cores are ``netgui.net.dns.*``); this module only
builds widgets and renders results. The pure input parsers of the core are used for
inline validation (they never touch the network).
"""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import ttk

from netgui.net.dns.bulk import rows_to_csv
from netgui.net.dns.jsonout import to_json
from netgui.net.dns.lookup import (
    COMMON_TYPES,
    DnsInputError,
    parse_rdtype,
    parse_server,
    query,
    question_for,
    transport_for,
)
from netgui.net.errors import NetError
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.form import Field, Form
from netgui.ui.theme import monospace, style_text
from netgui.ui.transcript import TranscriptPane

from .options import QueryOptions
from .widgets import Table, scrolled_text, set_text

SYSTEM = "System resolver"
TRANSPORTS = {"UDP (TCP if truncated)": "udp", "TCP": "tcp", "DNS over TLS": "tls",
              "DNS over HTTPS": "https"}
DOH = "DNS over HTTPS"
HISTORY_KEY = "dns.history"
SERVERS_KEY = "dns.servers"
HISTORY_MAX = 100
FLAGS = ("QR", "AA", "TC", "RD", "RA", "AD", "CD")
RECORD_COLUMNS = (("name", "Name", 220), ("ttl", "TTL", 70), ("class", "Class", 50),
                  ("type", "Type", 70), ("data", "Data", 420))


def _name_error(value: str) -> str | None:
    try:
        question_for(value, "A")
    except DnsInputError as exc:
        return str(exc)
    return None


def _type_error(value: str) -> str | None:
    try:
        parse_rdtype(value)
    except DnsInputError as exc:
        return str(exc)
    return None


def _server_error(value: str) -> str | None:
    try:
        parse_server("" if value == SYSTEM else value)
    except DnsInputError as exc:
        return str(exc)
    return None


def server_arg(text: str):
    """What the core takes for the server field's text: None for the system resolver."""
    return parse_server("" if text.strip() == SYSTEM else text)


def _lookup_worker(ctx, name, rdtype, server, transport, timeout, extra):
    ctx.status(f"Asking {'the system resolver' if server is None else server[0]} for {name} {rdtype}")
    return query(name, rdtype, server, transport, timeout=timeout, token=ctx.token, log=ctx.log,
                 **extra)


class DnsTab(Tab):
    """Look up names like dig; resolve lists; compare servers; remember queries."""

    title = "DNS"
    key = "dns"

    def __init__(self, master, app):
        super().__init__(master, app)
        self.task = None
        self.result = None
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}
        self._build_top()
        self._build_flags()
        self._build_pages()
        self._refresh_servers()
        self._load_history()
        self.on_theme_changed(app.theme)

    # -- building ---------------------------------------------------------------
    def _build_top(self) -> None:
        top = ttk.Frame(self)
        top.pack(side="top", fill="x")
        top.columnconfigure(1, weight=1)
        left = ttk.Frame(top)
        left.grid(row=0, column=0, sticky="nw")
        self.form = Form(left, [
            Field("name", "Name or address", required=True, validator=_name_error, width=34,
                  help="an IP address looks up its PTR name"),
            Field("rdtype", "Type", kind="choice", choices=COMMON_TYPES, editable=True,
                  default="A", validator=_type_error, width=12, help="or any type name or number"),
            Field("server", "Server", kind="choice", choices=(SYSTEM,), editable=True,
                  default=SYSTEM, validator=_server_error, width=34,
                  help="address[:port] or a DoH https:// URL"),
            Field("transport", "Transport", kind="choice", choices=tuple(TRANSPORTS), width=22),
            Field("timeout", "Timeout (s)", kind="int", default=5, minimum=1, maximum=120),
        ], on_submit=self.lookup, submit_text="Look up", settings=self.app.settings,
            store_key="dns.query")
        self.form.pack(side="top", anchor="w")
        # a long verdict or error must not widen the form (and push the History away): the
        # status line takes the width left beside the buttons; the status bar has it all
        self.form.status.configure(width=8)
        self.cancel_button = self.form.add_button("Cancel", self.cancel, enabled=False)
        self.form.add_button("Save server", self.save_server)
        self.form.add_button("Forget server", self.forget_server)
        self.form.variables["server"].trace_add("write", self._server_typed)
        self.query_options = QueryOptions(left, self.app.settings)
        self.query_options.pack(side="top", anchor="w", pady=(6, 0))

        history = ttk.Frame(top)
        history.grid(row=0, column=1, sticky="nsew", padx=(16, 0))
        bar = ttk.Frame(history)
        bar.pack(side="top", fill="x")
        ttk.Label(bar, text="History (double-click to run again)", style="Muted.TLabel").pack(side="left")
        ttk.Button(bar, text="Clear", command=self.clear_history).pack(side="right")
        self.history = Table(history, (("when", "When", 74), ("name", "Name", 130),
                                       ("type", "Type", 50), ("server", "Server", 112),
                                       ("status", "Status", 80)), height=6, stretch="name")
        self.history.pack(side="top", fill="both", expand=True)
        self.history.tree.bind("<Double-1>", self._rerun_history)
        self.history.tree.bind("<Return>", self._rerun_history)

    def _build_flags(self) -> None:
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x", pady=(8, 4))
        self.rcode_label = ttk.Label(bar, text="", font=("TkDefaultFont", 10, "bold"))
        self.rcode_label.pack(side="left", padx=(0, 6))
        self.ede_label = ttk.Label(bar, text="", style="Error.TLabel")
        self.ede_label.pack(side="left", padx=(0, 6))
        self.flag_labels: dict[str, ttk.Label] = {}
        for name in FLAGS:
            label = ttk.Label(bar, text=name, style="Muted.TLabel")
            label.pack(side="left", padx=2)
            self.flag_labels[name] = label
        self.info_label = ttk.Label(bar, text="", style="Muted.TLabel")
        self.info_label.pack(side="left", padx=(12, 0))
        ttk.Button(bar, text="Copy as JSON", command=self.copy_json).pack(side="right")
        ttk.Button(bar, text="Copy", command=self.copy_text).pack(side="right", padx=4)
        self.send_menu = tk.Menu(self, tearoff=False, postcommand=self._fill_send_menu)
        ttk.Menubutton(bar, text="Send to", menu=self.send_menu).pack(side="right")

    def _build_pages(self) -> None:
        self.pages = ttk.Notebook(self)
        self.pages.pack(side="top", fill="both", expand=True)

        result = ttk.Frame(self.pages, padding=4)
        self.pages.add(result, text="Result")
        self.tables: dict[str, Table] = {}
        panes = ttk.Panedwindow(result, orient="vertical")
        panes.pack(fill="both", expand=True)
        lower = ttk.Panedwindow(panes, orient="horizontal")
        for key, title, height in (("answer", "Answer", 3), ("authority", "Authority", 2),
                                   ("additional", "Additional", 2)):
            frame = ttk.Frame(panes if key == "answer" else lower)
            label = ttk.Label(frame, text=title, style="Muted.TLabel")
            label.pack(side="top", anchor="w")
            table = Table(frame, RECORD_COLUMNS, height=height, stretch="data")
            table.pack(side="top", fill="both", expand=True)
            table.title_label = label
            table.tree.bind("<ButtonRelease-1>", lambda e, k=key: self._on_click(e, k))
            table.tree.bind("<Double-1>", lambda e, k=key: self._on_double(e, k))
            table.tree.bind("<Motion>", lambda e, k=key: self._on_motion(e, k))
            if key == "answer":
                panes.add(frame, weight=3)
            else:
                lower.add(frame, weight=1)
            self.tables[key] = table
        panes.add(lower, weight=2)

        text_page = ttk.Frame(self.pages, padding=4)
        self.pages.add(text_page, text="dig text")
        frame, self.text = scrolled_text(text_page, height=12, font=monospace(self))
        frame.pack(fill="both", expand=True)

        from .bulk import BulkPane
        from .compare import ComparePane
        from .dnssec import ValidationPane
        from .trace import TracePane
        self.trace = TracePane(self.pages, self)
        self.pages.add(self.trace, text="Trace")
        self.dnssec = ValidationPane(self.pages, self)
        self.pages.add(self.dnssec, text="DNSSEC")
        self.bulk = BulkPane(self.pages, self)
        self.pages.add(self.bulk, text="Bulk")
        self.compare = ComparePane(self.pages, self)
        self.pages.add(self.compare, text="Compare")
        self.transcript = TranscriptPane(self.pages, palette=self.app.theme)
        self.pages.add(self.transcript, text="Transcript")

    def on_theme_changed(self, palette) -> None:
        style_text(self.text, palette)
        self.transcript.set_palette(palette)
        for table in self.tables.values():
            table.tree.tag_configure("link", foreground=palette.accent)
        self.compare.set_palette(palette)
        self.bulk.set_palette(palette)
        self.trace.set_palette(palette)
        self.dnssec.set_palette(palette)

    def on_shown(self) -> None:
        self.form.widgets["name"].focus_set()

    # -- options shared with the Trace, DNSSEC, Bulk and Compare pages ------------------------
    def options(self, need_name: bool = False) -> dict | None:
        """Validated question, server, transport, flags, EDNS and DoH options and timeout
        from the form and the options strip (None if something is invalid: said in place)."""
        if need_name:
            if not self.form.validate():
                self.form.set_status("Please correct the marked fields.", "error")
                return None
        else:
            for name in self.form.fields:
                error = None if name in ("name", "rdtype") else self.form.field_error(name)
                if error:
                    self.form.set_status(f"{self.form.fields[name].label}: {error}", "error")
                    return None
        values = self.form.values()
        try:
            extra = self.query_options.values()
        except NetError as exc:
            self.form.set_status(str(exc), "error")
            return None
        server = server_arg(values["server"])
        transport = transport_for(server, TRANSPORTS.get(values["transport"], "udp"))
        if transport == "https" and transport_for(server, "udp") != "https":
            self.form.set_status("DNS over HTTPS needs a URL as the server, like "
                                 "https://dns.example/dns-query", "error")
            return None
        return {"server": server, "transport": transport, "timeout": float(values["timeout"] or 5),
                "name": values["name"], "rdtype": values["rdtype"],
                "server_text": values["server"] or SYSTEM, **extra}

    def _server_typed(self, *args) -> None:
        """A https:// server is DNS over HTTPS: show it in the transport field."""
        text = self.form.variables["server"].get()
        if transport_for(text, "udp") == "https":
            self.form.variables["transport"].set(DOH)
        elif self.form.variables["transport"].get() == DOH:
            self.form.variables["transport"].set(next(iter(TRANSPORTS)))

    # -- one task at a time from the form: a lookup, a trace or a validation ----------------
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, fn, *args, busy_text: str, name: str, **callbacks):
        """Run ``fn`` for the form's question (the form busy, Cancel enabled) and return the
        Task; the transcript gets its log."""
        self.form.set_busy(True, busy_text)
        self.cancel_button.state(["!disabled"])
        done = callbacks.pop("on_done", None)

        def finished(task) -> None:
            self._finished(task)
            if done:
                done(task)

        callbacks.setdefault("origin", self.query_origin())
        self.task = self.track(self.app.runner.submit(
            fn, *args, name=name, on_log=self.transcript.append, on_done=finished, **callbacks))
        return self.task

    def query_origin(self, item: str | None = None):
        """The timeline's origin of a query from the form: item "name TYPE", the server asked."""
        values = self.form.values()
        try:
            server = server_arg(values["server"])
        except NetError:
            server = None
        host, port, protocol = "", None, "dns"
        if server is not None:
            host, port = server
            if str(host).lower().startswith("https://"):
                from urllib.parse import urlsplit
                parts = urlsplit(str(host))
                host, port, protocol = parts.hostname or "", parts.port or 443, "https"
            else:
                port = port or 53
        if item is None:
            item = f"{values['name']} {str(values['rdtype']).upper()}".strip()
        return self.origin(item, protocol, str(host), port, "dns")

    # -- a single lookup ------------------------------------------------------------------
    def lookup(self, values: dict) -> None:
        """Form submit (Return or Look up): the page's action on the Trace and DNSSEC
        pages, otherwise a lookup in a worker."""
        page = self.pages.select()
        if page == str(self.trace):
            self.trace.run()
            return
        if page == str(self.dnssec):
            self.dnssec.run()
            return
        if self.busy():
            return
        opts = self.options(need_name=True)
        if opts is None:
            return
        rdtype = values["rdtype"].upper()
        flags = self.query_options.describe()
        self.transcript.append("*", f"Query {values['name']} {rdtype} via {opts['server_text']}"
                               + (f" {flags}" if flags else ""))
        self._pending = (values["name"], rdtype, opts["server_text"])
        extra = {key: opts[key] for key in ("rd", "do", "cd", "edns", "doh_method", "http_version")}
        self.start(_lookup_worker, values["name"], rdtype, opts["server"], opts["transport"],
                   opts["timeout"], extra, busy_text=f"Looking up {values['name']} {rdtype}…",
                   name=f"DNS {values['name']} {rdtype}", on_result=self._show_result,
                   on_error=self._show_error)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.bulk.cancel()
        self.compare.cancel()

    def _finished(self, task) -> None:
        self.form.set_busy(False)
        self.cancel_button.state(["disabled"])

    def _show_error(self, err) -> None:
        self.form.set_status(str(err), "error", action=handoff.error_action(self.app, err))
        self.app.set_status(str(err))
        name, rdtype, server = self._pending
        kind = "cancelled" if type(err).__name__ == "Cancelled" else "error"
        self._add_history(name, rdtype, server, kind)

    def _show_result(self, result) -> None:
        self.result = result
        self._targets.clear()
        for key, table in self.tables.items():
            rows = getattr(result, key)
            table.clear()
            for record in rows:
                tags = ("link",) if record.target else ()
                item = table.add(record.row(), tags)
                if record.target:
                    follow = "A"
                    if record.rdtype in ("CNAME", "DNAME") and result.qtype not in ("CNAME", "DNAME", "PTR"):
                        follow = result.qtype  # keep asking the same question down the chain
                    self._targets[(key, item)] = (record.target, follow)
            hint = " · click a blue name to look it up" if any(r.target for r in rows) else ""
            table.title_label.configure(text=f"{key.capitalize()} ({len(rows)}){hint}")
        self.rcode_label.configure(text=result.rcode,
                                   style="Error.TLabel" if result.problem else "Ok.TLabel")
        errors = result.extended_errors
        self.ede_label.configure(text="; ".join(f"EDE {e['code']} {e['name']}" for e in errors))
        for name, on in result.flags.items():
            self.flag_labels[name].configure(text=name if on else name.lower(),
                                             style="TLabel" if on else "Muted.TLabel")
        via = result.transport + (f", {result.http_version}" if result.http_version else "")
        via += " after a truncated UDP reply" if result.truncated_retry else ""
        nsid = [o for o in result.edns_options if o["option"] == "NSID"]
        server_id = f" · NSID {nsid[0]['ascii'] or nsid[0]['hex']}" if nsid else ""
        self.info_label.configure(text=f"{result.elapsed * 1000:.1f} ms · {result.server} · {via} · "
                                       f"{result.size} bytes{server_id}")
        set_text(self.text, result.to_text())
        summary = result.summary()
        self.form.set_status(summary, "error" if result.problem else "ok")
        self.app.set_status(summary)
        name, rdtype, server = self._pending
        self._add_history(name, result.qtype if result.reverse else rdtype, server, result.rcode)

    def copy_text(self) -> str:
        """Copy what the selected page shows as text: the reply as dig writes it, the trace
        as ``dig +trace`` does, the validation as delv does, bulk rows as CSV, a comparison's
        differences."""
        content = self.shown_text()
        self.clipboard_clear()
        self.clipboard_append(content)
        return content

    def shown_text(self) -> str:
        """What the selected page shows, as the text Copy copies."""
        outcome = self.shown_outcome()
        if outcome is None:
            content = ""
        elif isinstance(outcome, list):
            content = rows_to_csv(outcome)
        elif hasattr(outcome, "to_text"):
            content = outcome.to_text()
        else:
            content = "\n".join([outcome.summary(), *outcome.differences()]) + "\n"
        return content

    def _fill_send_menu(self) -> None:
        """Send to: the shown table as text, into a new mail or an open chat window."""
        self.send_menu.delete(0, "end")
        text = self.shown_text()
        if not text:
            self.send_menu.add_command(label="Nothing to send yet", state="disabled")
            return
        title = f"DNS: {self.form.get('name')} {str(self.form.get('rdtype')).upper()}"
        for label, command in handoff.text_destinations(self.app, text, title):
            self.send_menu.add_command(label=label, command=command)

    # -- hand-off ------------------------------------------------------------------------
    def look_up(self, link) -> bool:
        """A bare domain or address (or the host of a URL, or an address's domain: MX)."""
        rdtype = "MX" if "@" in link.text else "A"
        self.pages.select(0)
        self.form.set_values({"name": link.host or link.url, "rdtype": rdtype})
        return self.form.submit()

    def reveal(self, item: str) -> None:
        """A query ("name TYPE"): the form filled with it (Look up runs it again)."""
        name, _, rdtype = item.rpartition(" ")
        if name:
            self.form.set_values({"name": name, "rdtype": rdtype})

    def shown_outcome(self):
        """What the selected page shows: a reply, a trace, a validation, bulk rows or a
        comparison (None when it shows nothing yet)."""
        page = self.pages.select()
        if page == str(self.trace):
            return self.trace.trace
        if page == str(self.dnssec):
            return self.dnssec.validation
        if page == str(self.bulk):
            return sorted(self.bulk.rows, key=lambda r: r.index) or None
        if page == str(self.compare):
            return self.compare.comparison
        return self.result

    def copy_json(self) -> str:
        """Copy what the selected page shows as JSON (the same as ``netgui dns --json``)."""
        outcome = self.shown_outcome()
        if outcome is None:
            self.app.set_status("Nothing to copy yet")
            return ""
        content = to_json(outcome)
        self.clipboard_clear()
        self.clipboard_append(content)
        self.app.set_status(f"Copied {len(content):,} characters of JSON")
        return content

    # -- clickable names -------------------------------------------------------------------
    def target_at(self, key: str, item: str) -> tuple[str, str] | None:
        return self._targets.get((key, item))

    def follow(self, key: str, item: str) -> bool:
        """Look up the name a record points to (CNAME, MX, NS, SRV, PTR targets)."""
        target = self.target_at(key, item)
        if target is None or self.form.busy:
            return False
        name, rdtype = target
        self.form.set_values({"name": name, "rdtype": rdtype})
        return self.form.submit()

    def _on_click(self, event, key: str) -> None:
        tree = self.tables[key].tree
        item = tree.identify_row(event.y)
        if item and tree.identify_column(event.x) == "#5":
            self.follow(key, item)

    def _on_double(self, event, key: str) -> None:
        item = self.tables[key].tree.identify_row(event.y)
        if item:
            self.follow(key, item)

    def _on_motion(self, event, key: str) -> None:
        tree = self.tables[key].tree
        item = tree.identify_row(event.y)
        over = bool(item) and (key, item) in self._targets and tree.identify_column(event.x) == "#5"
        tree.configure(cursor="hand2" if over else "")

    # -- saved servers ---------------------------------------------------------------------
    def saved_servers(self) -> list[str]:
        return list(self.app.settings.get(SERVERS_KEY, []) or [])

    def save_server(self) -> None:
        text = self.form.values()["server"]
        error = _server_error(text)
        if error or not text or text == SYSTEM:
            self.form.set_status(error or "Type a server address to save it", "error")
            return
        servers = self.saved_servers()
        if text not in servers:
            servers.append(text)
            self.app.settings.set(SERVERS_KEY, servers)
        self._refresh_servers()
        self.form.set_status(f"Saved server {text}", "ok")

    def forget_server(self) -> None:
        text = self.form.values()["server"]
        servers = [s for s in self.saved_servers() if s != text]
        self.app.settings.set(SERVERS_KEY, servers)
        self._refresh_servers()
        self.form.set("server", SYSTEM)
        self.form.set_status(f"Forgot server {text}", "info")

    def _refresh_servers(self) -> None:
        self.form.widgets["server"].configure(values=[SYSTEM] + self.saved_servers())

    # -- history ---------------------------------------------------------------------------
    def history_entries(self) -> list[dict]:
        return list(self.app.settings.get(HISTORY_KEY, []) or [])

    def _add_history(self, name, rdtype, server, status) -> None:
        values = self.form.values()
        entry = {"when": time.strftime("%H:%M:%S"), "name": name, "rdtype": rdtype,
                 "server": server, "transport": values["transport"],
                 "options": self.query_options.raw(), "status": status}
        entries = ([entry] + self.history_entries())[:HISTORY_MAX]
        self.app.settings.set(HISTORY_KEY, entries)
        self._load_history()

    def _load_history(self) -> None:
        self.history.clear()
        for entry in self.history_entries():
            self.history.add((entry.get("when", ""), entry.get("name", ""), entry.get("rdtype", ""),
                              entry.get("server", ""), entry.get("status", "")))

    def _rerun_history(self, event=None) -> str:
        selection = self.history.tree.selection()
        if not selection:
            return "break"
        index = self.history.tree.index(selection[0])
        entries = self.history_entries()
        if index < len(entries):
            self.rerun(entries[index])
        return "break"

    def rerun(self, entry: dict) -> bool:
        """Fill the form from a history entry and run it again."""
        self.form.set_values({"name": entry.get("name"), "rdtype": entry.get("rdtype"),
                              "server": entry.get("server"), "transport": entry.get("transport")})
        options = entry.get("options") or {"rd": entry.get("rd", True), "do": entry.get("do", False)}
        self.query_options.set(**{k: v for k, v in options.items() if k in self.query_options.vars})
        self.pages.select(0)
        return self.form.submit()

    def clear_history(self) -> None:
        self.app.settings.set(HISTORY_KEY, [])
        self._load_history()
