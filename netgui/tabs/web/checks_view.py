"""The Checks tab of the request side: the check lines of a request and how the last run went."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from netgui.net.http.checks import EXAMPLES, CheckResult
from netgui.ui.theme import Palette, monospace, style_text

PASS, FAIL = "✔", "✘"


class ChecksView(ttk.Frame):
    """An editor for check lines (one per line) above a table of their last results."""

    def __init__(self, master, palette: Palette, on_title=None):
        super().__init__(master)
        self.on_title = on_title
        ttk.Label(self, text="One per line, e.g. " + " · ".join(EXAMPLES),
                  style="Muted.TLabel", wraplength=300, justify="left").pack(side="top", fill="x")
        self.text = tk.Text(self, height=4, width=30, wrap="none", undo=True, font=monospace(self), padx=4,
                            pady=4)
        self.text.pack(side="top", fill="x", pady=(4, 4))
        box = ttk.Frame(self)
        box.pack(side="top", fill="both", expand=True)
        self.results = ttk.Treeview(box, columns=("check", "detail"), show="tree headings", height=4,
                                    selectmode="browse")
        self.results.heading("#0", text="", anchor="w")
        self.results.heading("check", text="Check", anchor="w")
        self.results.heading("detail", text="Result", anchor="w")
        self.results.column("#0", width=34, stretch=False)
        self.results.column("check", width=200, stretch=True)
        self.results.column("detail", width=200, stretch=True)
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.results.yview)
        self.results.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.results.pack(side="left", fill="both", expand=True)
        self.summary = ttk.Label(self, text="", style="Muted.TLabel", anchor="w")
        self.summary.pack(side="top", fill="x", pady=(4, 0))
        self.set_palette(palette)

    def set_palette(self, palette: Palette) -> None:
        style_text(self.text, palette)
        self.results.tag_configure("pass", foreground=palette.ok)
        self.results.tag_configure("fail", foreground=palette.error)

    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.get("1.0", "end-1c").split("\n") if line.strip()]

    def set_lines(self, lines: list[str]) -> None:
        self.text.delete("1.0", "end")
        self.text.insert("1.0", "\n".join(lines))
        self.clear_results()

    def clear_results(self, note: str = "") -> None:
        self.results.delete(*self.results.get_children())
        self.summary.configure(text=note)
        self._title("")

    def show_results(self, results: list[CheckResult]) -> None:
        self.results.delete(*self.results.get_children())
        for result in results:
            self.results.insert("", "end", text=PASS if result.passed else FAIL,
                                values=(result.text, result.detail),
                                tags=("pass" if result.passed else "fail",))
        failed = sum(1 for r in results if not r.passed)
        if not results:
            self.summary.configure(text="")
            self._title("")
        elif failed:
            self.summary.configure(text=f"{failed} of {len(results)} checks failed")
            self._title(f" {FAIL}{failed}")
        else:
            self.summary.configure(text=f"All {len(results)} checks passed")
            self._title(f" {PASS}{len(results)}")

    def rows(self) -> list[tuple[str, str, str]]:
        return [(self.results.item(i, "text"),) + tuple(str(v) for v in self.results.item(i, "values"))
                for i in self.results.get_children()]

    def _title(self, suffix: str) -> None:
        if self.on_title is not None:
            self.on_title("Checks" + suffix)
