"""The DNS tab's Compare pane: one question, several servers, differences highlighted."""

from __future__ import annotations

import re
import tkinter as tk
from tkinter import ttk

from netgui.net.dns.comparison import compare
from netgui.net.dns.lookup import DnsInputError, parse_server
from netgui.ui.theme import style_text

from .widgets import ListPane, Table

ABSENT = "—"


def parse_server_list(text: str) -> list:
    """Servers from the box: one per line or separated by commas/spaces; "system" allowed."""
    servers = []
    for word in re.split(r"[\s,]+", text.strip()):
        if word:
            servers.append(parse_server(word))
    return servers


def _compare_worker(ctx, name, rdtype, servers, opts):
    ctx.status(f"Asking {len(servers)} servers for {name} {rdtype}")
    extra = {key: opts[key] for key in ("rd", "do", "cd", "edns", "doh_method", "http_version")}
    transport = "udp" if opts["transport"] == "https" else opts["transport"]
    return compare(name, rdtype, servers, transport, timeout=opts["timeout"], token=ctx.token,
                   log=ctx.log, **extra)


class ComparePane(ListPane):
    """A table with one column per server; rows that not every server has are highlighted."""

    def __init__(self, master, tab):
        super().__init__(master, tab, "Servers, one per line\n(asked the question above):",
                         width=28, height=3)
        self.comparison = None
        self.palette = None
        buttons = self.add_buttons("Compare")
        ttk.Button(buttons, text="Saved servers", command=self.use_saved).pack(side="left")
        self.add_status(wraplength=300)

        right = ttk.Frame(self)
        right.pack(side="left", fill="both", expand=True, padx=(8, 0))
        self.table_holder = ttk.Frame(right)
        self.table_holder.pack(side="top", fill="both", expand=True)
        self.table = self._make_table([])
        self.differences = tk.Text(right, height=3, wrap="word", state="disabled")
        self.differences.pack(side="top", fill="x", pady=(6, 0))

    def _make_table(self, servers: list[str]) -> Table:
        if getattr(self, "table", None) is not None:
            self.table.destroy()
        columns = [("name", "Name", 150), ("type", "Type", 55), ("data", "Data", 200)]
        columns += [(f"s{i}", server, 150) for i, server in enumerate(servers)]
        table = Table(self.table_holder, columns, height=4, stretch="data")
        table.pack(fill="both", expand=True)
        self.table = table
        self._style_table()
        return table

    def _style_table(self) -> None:
        if self.palette is not None:
            self.table.tree.tag_configure("differ", background=self.palette.highlight_bg)
            self.table.tree.tag_configure("status", foreground=self.palette.muted)

    def set_palette(self, palette) -> None:
        self.palette = palette
        super().set_palette(palette)
        style_text(self.differences, palette)
        self._style_table()

    def use_saved(self) -> None:
        saved = self.tab.saved_servers()
        self.set_entry("\n".join(["system"] + saved) if saved else "system\n")

    def run(self) -> bool:
        if self.task is not None and self.task.running:
            return False
        opts = self.tab.options(need_name=True)
        if opts is None:
            self.say("Fix the question above first", error=True)
            return False
        try:
            servers = parse_server_list(self.entry_text())
        except DnsInputError as exc:
            self.say(str(exc), error=True)
            return False
        if len(servers) < 2:
            self.say("List at least two servers to compare", error=True)
            return False
        name, rdtype = opts["name"], opts["rdtype"].upper()
        self.say(f"Asking {len(servers)} servers…")
        self.run_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.task = self.tab.track(self.tab.app.runner.submit(
            _compare_worker, name, rdtype, servers, opts, name=f"DNS compare {name}",
            on_result=self.show, on_error=self._on_error, on_log=self.tab.transcript.append,
            on_done=self._on_done, origin=self.tab.query_origin(f"compare {name} {rdtype}")))
        return True

    def _on_error(self, err) -> None:
        self.say(str(err), error=True)

    def _on_done(self, task) -> None:
        self.run_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])

    def show(self, comparison) -> None:
        """Render a Comparison: a status row, then one row per answer record."""
        self.comparison = comparison
        table = self._make_table(comparison.servers)
        statuses = [f"{comparison.status(i)} ({_carried(comparison.results[i])})"
                    if comparison.results[i] else f"error: {comparison.errors[i]}"
                    for i in range(len(comparison.servers))]
        table.add(["(status)", "", ""] + statuses,
                  ("status", "differ") if comparison.statuses_differ else ("status",))
        for row in comparison.rows:
            cells = [row.name, row.rdtype, row.data]
            cells += [ABSENT if ttl is None else f"TTL {ttl}" for ttl in row.ttls]
            table.add(cells, ("differ",) if row.differs else ())
        lines = comparison.differences()
        self.differences.configure(state="normal")
        self.differences.delete("1.0", "end")
        self.differences.insert("1.0", "\n".join(lines) if lines else "No differences.")
        self.differences.configure(state="disabled")
        self.status.configure(text=comparison.summary(),
                              style="Error.TLabel" if comparison.differs else "Ok.TLabel")
        self.tab.app.set_status(comparison.summary())


def _carried(result) -> str:
    """``UDP`` or ``HTTPS, HTTP/2``: how a server's reply came."""
    return result.transport + (f", {result.http_version}" if result.http_version else "")
