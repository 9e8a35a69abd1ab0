"""The collection runner: run a folder's requests in order or in parallel, a results table,
the failed checks of a row, and a JUnit report."""

from __future__ import annotations

import time
import tkinter as tk
from tkinter import filedialog, ttk

from netgui.net.http.runner import ERROR, FAILED, PASSED, SKIPPED, junit_xml, tally
from netgui.ui.theme import monospace, style_text

from . import collection_work as work
from .dialogs import drop_variables

MARKS = {PASSED: "✔ pass", FAILED: "✘ fail", ERROR: "⚠ error", SKIPPED: "– skipped"}


def save_report(ctx, path: str, text: str):
    from netgui.config import atomic_write_text
    atomic_write_text(path, text)
    return path


class RunnerWindow(tk.Toplevel):
    def __init__(self, parent, panel, where: str):
        super().__init__(parent)
        self.panel = panel
        self.app = panel.app
        self.where = where
        self.items = panel.items(where)
        self.results: dict[int, object] = {}
        self.task = None
        self.started = 0.0
        self.seconds = 0.0
        name = where or panel.root_path.name
        self.title(f"Run {name} — netgui")
        self.transient(parent.winfo_toplevel())
        self.geometry("860x520")
        self.minsize(560, 360)

        top = ttk.Frame(self, padding=(10, 10, 10, 0))
        top.pack(side="top", fill="x")
        env = panel.env_name or "no environment"
        ttk.Label(top, text=f"{len(self.items)} request{'s' if len(self.items) != 1 else ''} in {name} · "
                            f"{env}", font=("TkHeadingFont", 11, "bold")).pack(side="left")
        options = ttk.Frame(self, padding=(10, 6, 10, 0))
        options.pack(side="top", fill="x")
        self.mode = tk.StringVar(self, value="order")
        ttk.Radiobutton(options, text="In order", value="order", variable=self.mode).pack(side="left")
        ttk.Radiobutton(options, text="In parallel, up to", value="parallel", variable=self.mode).pack(
            side="left", padx=(10, 0))
        self.workers = tk.StringVar(self, value="4")
        ttk.Spinbox(options, from_=2, to=32, textvariable=self.workers, width=4).pack(side="left",
                                                                                    padx=(4, 0))
        ttk.Label(options, text="at once").pack(side="left", padx=(4, 0))
        self.start_button = ttk.Button(options, text="Run", command=self.start, style="Accent.TButton")
        self.start_button.pack(side="right")
        self.cancel_button = ttk.Button(options, text="Cancel", command=self.cancel, state="disabled")
        self.cancel_button.pack(side="right", padx=(0, 6))
        self.junit_button = ttk.Button(options, text="Save JUnit…", command=self.save_junit,
                                       state="disabled")
        self.junit_button.pack(side="right", padx=(0, 6))

        self.summary = ttk.Label(self, text="Press Run.", anchor="w", padding=(10, 0, 10, 10))
        self.summary.pack(side="bottom", fill="x")
        self.bar = ttk.Progressbar(self, mode="determinate", maximum=max(1, len(self.items)))
        self.bar.pack(side="top", fill="x", padx=10, pady=(8, 0))
        paned = ttk.PanedWindow(self, orient="vertical")
        paned.pack(side="top", fill="both", expand=True, padx=10, pady=6)
        box = ttk.Frame(paned)
        self.table = ttk.Treeview(box, columns=("request", "method", "status", "time", "checks", "result"),
                                  show="headings", selectmode="browse")
        for column, text, width, stretch in (
                ("request", "Request", 300, True), ("method", "Method", 70, False),
                ("status", "Status", 110, False), ("time", "Time", 70, False),
                ("checks", "Checks", 70, False), ("result", "Result", 90, False)):
            self.table.heading(column, text=text, anchor="w")
            self.table.column(column, width=width, stretch=stretch, anchor="e" if column == "time" else "w")
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.table.yview)
        self.table.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.table.pack(side="left", fill="both", expand=True)
        self.table.bind("<<TreeviewSelect>>", lambda e: self._show_detail())
        self.table.bind("<Double-1>", lambda e: self.open_selected())
        paned.add(box, weight=3)
        detail = ttk.Frame(paned)
        self.detail = tk.Text(detail, height=6, wrap="word", state="disabled", font=monospace(self), padx=6,
                              pady=4)
        self.detail.pack(fill="both", expand=True)
        paned.add(detail, weight=1)
        self._recolour(self.app.theme)
        self.app.follow_theme(self, self._recolour)
        self._fill()
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.bind("<Escape>", lambda e: self.close())

    def _recolour(self, palette) -> None:
        style_text(self.detail, palette)
        self.table.tag_configure(PASSED, foreground=palette.ok)
        self.table.tag_configure(FAILED, foreground=palette.error)
        self.table.tag_configure(ERROR, foreground=palette.warn)
        self.table.tag_configure("running", foreground=palette.accent)
        self.table.tag_configure(SKIPPED, foreground=palette.muted)

    def _fill(self) -> None:
        self.table.delete(*self.table.get_children())
        for index, item in enumerate(self.items):
            self.table.insert("", "end", iid=str(index),
                              values=(item.label, item.entry.method, "", "", "", ""))

    # -- running -----------------------------------------------------------------------------
    def start(self, mode: str | None = None, workers: int | None = None) -> None:
        if self.task is not None and self.task.running or not self.items:
            return
        if mode is not None:
            self.mode.set(mode)
        if workers is not None:
            self.workers.set(str(workers))
        try:
            count = max(2, min(32, int(self.workers.get()))) if self.mode.get() == "parallel" else 1
        except ValueError:
            count = 4
        self.results.clear()
        self._fill()
        self.started = time.monotonic()
        self.start_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.junit_button.state(["disabled"])
        self.summary.configure(text="Running…")
        self.bar["value"] = 0
        self.task = self.panel.tab.track(self.app.runner.submit(
            work.run_collection, self.items, self.panel.run_resolver(), self.panel.collection.folder_of,
            count, name=f"Run {self.where or 'collection'}", on_event=self._event, on_done=self._done,
            on_error=self._failed))

    def _failed(self, err) -> None:
        if self.winfo_exists():
            self.summary.configure(text=str(err))

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def close(self) -> None:
        self.cancel()
        self.destroy()

    def destroy(self) -> None:
        super().destroy()
        drop_variables(self)

    def _event(self, kind: str, payload) -> None:
        if not self.winfo_exists():
            return  # closed while the run was stopping
        if kind == "started":
            iid = str(payload)
            values = list(self.table.item(iid, "values"))
            values[5] = "running…"
            self.table.item(iid, values=values, tags=("running",))
            return
        index, result = payload
        self.results[index] = result
        status = f"{result.status} {result.reason}".strip() if result.status is not None else "—"
        checks = f"{len(result.checks) - len(result.failures)}/{len(result.checks)}" if result.checks else ""
        took = f"{result.elapsed_ms:.0f} ms" if result.status is not None else ""
        self.table.item(str(index), values=(result.label, result.method, status, took, checks,
                                            MARKS[result.outcome]), tags=(result.outcome,))
        self.bar["value"] = len(self.results)
        selected = self.table.selection()
        if selected and selected[0] == str(index):
            self._show_detail()

    def _done(self, task) -> None:
        if not self.winfo_exists():
            return
        self.seconds = time.monotonic() - self.started
        self.start_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])
        results = self.ordered_results()
        counts = tally(results)
        self.junit_button.state(["!disabled"] if results else ["disabled"])
        text = (f"{len(results)} requests: {counts[PASSED]} passed, {counts[FAILED]} failed, "
                f"{counts[ERROR]} errors" + (f", {counts[SKIPPED]} skipped" if counts[SKIPPED] else "")
                + f" in {self.seconds:.2f} s")
        if task.state == "cancelled":
            text = "Cancelled · " + text
        self.summary.configure(text=text, style="Ok.TLabel" if counts[PASSED] == len(results) and results
                               else "Error.TLabel")
        if not any(t for t in self.table.selection()):
            first_bad = next((str(i) for i, r in sorted(self.results.items()) if r.outcome != PASSED), None)
            if first_bad is not None:
                self.table.selection_set(first_bad)
                self.table.see(first_bad)

    def ordered_results(self) -> list:
        return [self.results[i] for i in sorted(self.results)]

    def rows(self) -> list[tuple[str, ...]]:
        return [tuple(str(v) for v in self.table.item(i, "values")) for i in self.table.get_children()]

    # -- details --------------------------------------------------------------------------------
    def _show_detail(self) -> None:
        selected = self.table.selection()
        result = self.results.get(int(selected[0])) if selected else None
        lines = []
        if result is not None:
            lines.append(f"{result.method} {result.url}")
            if result.status is not None:
                lines.append(f"→ {result.status} {result.reason} in {result.elapsed_ms:.0f} ms")
            if result.error:
                lines.append(result.error)
            for check in result.checks:
                lines.append(f"{'✔' if check.passed else '✘'} {check.text}  —  {check.detail}")
            if not result.checks and not result.error:
                lines.append("No checks: add # @check lines (the Checks tab) to test this response.")
        self.detail.configure(state="normal")
        self.detail.delete("1.0", "end")
        self.detail.insert("1.0", "\n".join(lines))
        self.detail.configure(state="disabled")

    def detail_text(self) -> str:
        return self.detail.get("1.0", "end-1c")

    def open_selected(self) -> None:
        selected = self.table.selection()
        if selected:
            item = self.items[int(selected[0])]
            self.panel.open_request(item.path, item.index)

    def save_junit(self, path: str | None = None) -> None:
        if path is None:
            path = filedialog.asksaveasfilename(parent=self, title="Save JUnit report",
                                                initialfile="netgui-run.xml", defaultextension=".xml")
        if not path:
            return
        text = junit_xml(self.ordered_results(), self.panel.root_path.name, self.seconds)
        self.app.runner.submit(save_report, path, text, name="Save JUnit report",
                               on_result=lambda p: self.summary.configure(text=f"Saved the report to {p}"),
                               on_error=lambda err: self.summary.configure(text=str(err)))
