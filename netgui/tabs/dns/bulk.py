"""The DNS tab's Bulk pane: paste or load names, resolve them concurrently, export CSV."""

from __future__ import annotations

import time
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk

from netgui.config import atomic_write_text
from netgui.net.dns.bulk import BULK_HEADER, BulkRow, bulk_resolve, parse_bulk_text, rows_to_csv

from .widgets import ListPane, Table

MAX_FILE_BYTES = 20 * 1024 * 1024
INSERT_BUDGET_S = 0.01
INSERT_CHUNK = 50   # rows per Tcl call


def _bulk_worker(ctx, pairs, opts, concurrency):
    ctx.status(f"Resolving {len(pairs)} questions")
    extra = {key: opts[key] for key in ("cd", "edns")}
    if opts["transport"] == "https":
        extra.update(doh_method=opts["doh_method"], http_version=opts["http_version"])
    return bulk_resolve(pairs, opts["server"], opts["transport"], rd=opts["rd"], do=opts["do"],
                        timeout=opts["timeout"], concurrency=concurrency, token=ctx.token,
                        on_rows=lambda rows: ctx.event("rows", rows),
                        progress=lambda done, total: ctx.progress(done, total), log=ctx.log,
                        **extra)


class BulkPane(ListPane):
    """Names in, one table row per (name, type) out, streamed while they resolve."""

    def __init__(self, master, tab):
        super().__init__(master, tab, "Names, one per line (optionally followed by types):",
                         width=34, height=4)
        self.rows: list[BulkRow] = []
        self._queue: list[BulkRow] = []
        self._final = None
        self._drain_id = None

        options = ttk.Frame(self.bottom)
        options.pack(side="top", fill="x", pady=(4, 0))
        ttk.Label(options, text="Types:").pack(side="left")
        self.types = tk.StringVar(self, value="A")
        ttk.Entry(options, textvariable=self.types, width=10).pack(side="left", padx=(4, 8))
        ttk.Label(options, text="At a time:").pack(side="left")
        self.concurrency = tk.StringVar(self, value="100")
        ttk.Spinbox(options, textvariable=self.concurrency, from_=1, to=1000, width=5).pack(
            side="left", padx=4)
        buttons = self.add_buttons("Resolve all")
        ttk.Button(buttons, text="Load…", command=self.load_dialog).pack(side="left")
        self.export_button = ttk.Button(buttons, text="Export CSV…", command=self.export_dialog)
        self.export_button.pack(side="left", padx=4)
        self.progress = ttk.Progressbar(self.bottom, mode="determinate", maximum=1.0)
        self.progress.pack(side="top", fill="x", pady=(6, 0))
        self.add_status(wraplength=330)

        self.table = Table(self, [(key, title, width) for key, title, width in (
            ("name", "Name", 180), ("type", "Type", 60), ("status", "Status", 90),
            ("answers", "Answers", 300), ("ttl", "TTL", 60), ("ms", "ms", 60),
            ("message", "Message", 220))], height=6, stretch="answers")
        self.table.pack(side="left", fill="both", expand=True, padx=(8, 0))

    def set_palette(self, palette) -> None:
        super().set_palette(palette)
        self.table.tree.tag_configure("bad", foreground=palette.error)
        self.table.tree.tag_configure("empty", foreground=palette.muted)

    # -- input -------------------------------------------------------------------------
    def load(self, path: str) -> int:
        """Put a file's names into the box; returns how many lines were read."""
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            self.say(f"{file.name} is too large for a name list", error=True)
            return 0
        text = file.read_text(encoding="utf-8", errors="replace")
        self.set_entry(text)
        self.status.configure(text=f"Loaded {len(text.splitlines())} lines from {file.name}",
                              style="Status.TLabel")
        return len(text.splitlines())

    def load_dialog(self) -> None:
        path = filedialog.askopenfilename(parent=self, title="Load a list of names",
                                          filetypes=[("Text", "*.txt *.csv *.list"), ("All", "*")])
        if path:
            self.try_file(self.load, path, "read")

    # -- running -----------------------------------------------------------------------
    def run(self) -> bool:
        if self.pending:
            return False
        opts = self.tab.options()
        if opts is None:
            self.say("Fix the server settings above first", error=True)
            return False
        pairs = parse_bulk_text(self.entry_text(), self.types.get().replace(",", " ").split())
        if not pairs:
            self.say("Paste or load some names first", error=True)
            return False
        try:
            concurrency = max(1, min(1000, int(self.concurrency.get())))
        except ValueError:
            concurrency = 100
        self.rows = []
        self._queue = []
        self._final = None
        self.total = len(pairs)
        self.table.clear()
        self.progress.configure(value=0)
        self.say(f"Resolving {len(pairs)} questions…")
        self.run_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.transport = opts["transport"].upper()
        self.tab.transcript.append("*", f"Bulk: {len(pairs)} questions via {opts['server_text']} "
                                        f"over {self.transport}")
        self.task = self.tab.track(self.tab.app.runner.submit(
            _bulk_worker, pairs, opts, concurrency, name=f"DNS bulk ({len(pairs)} names)",
            on_event=self._on_event, on_progress=self._on_progress, on_result=self._on_result,
            on_error=self._on_error, on_log=self.tab.transcript.append, on_done=self._on_done,
            origin=self.tab.query_origin(f"bulk {len(pairs)} names")))
        return True

    def _on_event(self, kind, rows) -> None:
        if kind != "rows":
            return
        self._queue.extend(rows)
        if self._drain_id is None:
            self._drain_id = self.after_idle(self._drain)

    def _drain(self) -> None:
        """Insert queued rows for at most ~10 ms per turn so the window stays responsive."""
        self._drain_id = None
        deadline = time.perf_counter() + INSERT_BUDGET_S
        while self._queue and time.perf_counter() < deadline:
            chunk = self._queue[:INSERT_CHUNK]
            del self._queue[:INSERT_CHUNK]
            self.rows.extend(chunk)
            self.table.add_many((row.row(), ("bad",) if row.status != "NOERROR" else
                                 (("empty",) if not row.answers else ())) for row in chunk)
        if self._queue:
            self._drain_id = self.after(5, self._drain)
        elif self._final is not None:
            self._finish(self._final)

    @property
    def pending(self) -> bool:
        """True while rows are still waiting to be put into the table."""
        return bool(self._queue) or (self.task is not None and self.task.running)

    def _on_progress(self, progress) -> None:
        if progress.fraction is not None:
            self.progress.configure(value=progress.fraction)
        self.status.configure(text=f"{int(progress.done)} of {int(progress.total or 0)} resolved")

    def _on_result(self, rows) -> None:
        self._final = rows
        if not self._queue:
            self._finish(rows)

    def _finish(self, rows) -> None:
        self._final = None
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda x: -x[1]))
        self.progress.configure(value=1.0)
        self.status.configure(text=f"{len(rows)} done over {self.transport}: {detail}",
                              style="Ok.TLabel")
        self.tab.app.set_status(f"Bulk lookup: {len(rows)} done over {self.transport} ({detail})")

    def _on_error(self, err) -> None:
        self.say(f"{err} ({len(self.rows)} of {self.total} done)", error=True)

    def _on_done(self, task) -> None:
        self.run_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])

    # -- export ------------------------------------------------------------------------
    def export(self, path: str) -> int:
        """Write the table (in input order) as CSV; returns the number of rows written."""
        rows = sorted(self.rows, key=lambda r: r.index)
        atomic_write_text(Path(path), rows_to_csv(rows))
        self.status.configure(text=f"Exported {len(rows)} rows to {Path(path).name}",
                              style="Ok.TLabel")
        return len(rows)

    def export_dialog(self) -> None:
        if not self.rows:
            self.say("Nothing to export yet", error=True)
            return
        path = filedialog.asksaveasfilename(parent=self, title="Export as CSV",
                                            defaultextension=".csv", initialfile="dns-bulk.csv",
                                            filetypes=[("CSV", "*.csv")])
        if path:
            self.try_file(self.export, path, "write")


__all__ = ["BulkPane", "BULK_HEADER"]
