"""The Connection doctor window (Tools → Connection doctor…, Ctrl+Shift+D, and Diagnose on
every error line): a target, every layer's step as it finishes (result, time, details), and
the verdict with what to try. The work is ``netgui.net.doctor.diagnose`` in a worker."""

from __future__ import annotations

import tkinter as tk
from tkinter import filedialog, ttk

from netgui.net.doctor import FAIL, INFO, OK, SKIP, WARN, diagnose, parse_target
from netgui.net.doctor.model import MARKS
from netgui.ui.form import Field, Form

from .. import handoff

RECENT_KEY = "doctor.recent"
SYSTEM = "System resolver"
_windows: dict = {}


def _run(ctx, target, servers, resolver):
    ctx.status(f"Diagnosing {target}")
    return diagnose(target, dns_servers=servers, resolver=resolver, token=ctx.token, log=ctx.log,
                    on_step=lambda step: ctx.event("step", step))


class DoctorWindow(tk.Toplevel):
    def __init__(self, app):
        super().__init__(app.root)
        self.app = app
        self.task = None
        self.report = None
        self.title("Connection doctor")
        self.geometry("920x600")
        self.minsize(600, 380)
        outer = ttk.Frame(self, padding=10)
        outer.pack(fill="both", expand=True)
        servers = [str(s) for s in app.settings.get("dns.servers", []) or []]
        recent = list(app.settings.get(RECENT_KEY, []) or [])
        self.form = Form(outer, [
            Field("target", "Host, URL or address", kind="choice", choices=recent, editable=True,
                  required=True, width=44, remember=False, validator=_target_problem),
            Field("resolver", "Resolve with", kind="choice", choices=[SYSTEM] + servers, default=SYSTEM,
                  width=30, editable=True),
            Field("compare", "Compare with saved DNS servers", kind="check", default=bool(servers)),
        ], on_submit=self.start, submit_text="Diagnose", settings=app.settings, store_key="doctor")
        self.form.pack(side="top", fill="x")
        self.cancel_button = self.form.add_button("Cancel", self.cancel, enabled=False)
        ttk.Label(outer, text="e.g. imaps://mail.example.org, ftp.example.org:21, https://example.org/, "
                              "alice@example.org", style="Muted.TLabel").pack(side="top", anchor="w")

        verdict = ttk.Frame(outer, padding=(0, 8, 0, 4))
        verdict.pack(side="top", fill="x")
        self.verdict = ttk.Label(verdict, text="", anchor="w", justify="left", font="TkHeadingFont")
        self.verdict.pack(side="top", fill="x")
        self.advice = ttk.Label(verdict, text="", anchor="w", justify="left")
        self.advice.pack(side="top", fill="x")
        # the verdict wraps at the window's width (its height follows; the width does not)
        verdict.bind("<Configure>", lambda e: [label.configure(wraplength=max(200, e.width - 8))
                                               for label in (self.verdict, self.advice)], add="+")

        bottom = ttk.Frame(outer)
        bottom.pack(side="bottom", fill="x", pady=(6, 0))
        self.copy_button = ttk.Button(bottom, text="Copy report", command=self.copy)
        self.copy_button.pack(side="left")
        ttk.Button(bottom, text="Save JSON…", command=self.save_dialog).pack(side="left", padx=(4, 0))
        self.lookup_button = ttk.Button(bottom, text="Look up in DNS", command=self.look_up)
        self.lookup_button.pack(side="left", padx=(4, 0))
        ttk.Button(bottom, text="Timeline", command=self.show_timeline).pack(side="left", padx=(4, 0))
        ttk.Button(bottom, text="Close", command=self.destroy).pack(side="right")

        body = ttk.Frame(outer)
        body.pack(side="top", fill="both", expand=True)
        self.tree = ttk.Treeview(body, columns=("status", "time", "summary"), show="tree headings")
        self.tree.heading("#0", text="Step", anchor="w")
        self.tree.heading("status", text="Result", anchor="w")
        self.tree.heading("time", text="Time", anchor="e")
        self.tree.heading("summary", text="Details", anchor="w")
        self.tree.column("#0", width=250, stretch=False)
        self.tree.column("status", width=60, stretch=False)
        self.tree.column("time", width=70, stretch=False, anchor="e")
        self.tree.column("summary", width=500)
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self._sections: dict[str, str] = {}
        self.set_palette(app.theme)
        app.follow_theme(self, self.set_palette)
        self.bind("<Destroy>", self._destroyed, add="+")

    def set_palette(self, palette) -> None:
        for status, colour in ((OK, palette.ok), (FAIL, palette.error), (WARN, palette.warn),
                               (INFO, palette.fg), (SKIP, palette.muted)):
            self.tree.tag_configure(status, foreground=colour)
        self.tree.tag_configure("detail", foreground=palette.muted)

    # -- running ----------------------------------------------------------------------------------
    def start(self, values: dict | None = None) -> None:
        values = values or self.form.values()
        target = values["target"].strip()
        resolver = values["resolver"].strip()
        resolver = None if not resolver or resolver == SYSTEM else resolver
        servers = [str(s) for s in self.app.settings.get("dns.servers", []) or []] \
            if values.get("compare") else []
        if self.task is not None and self.task.running:
            self.task.cancel()
        self._remember(target)
        self.tree.delete(*self.tree.get_children())
        self._sections.clear()
        self.report = None
        self.verdict.configure(text=f"Checking {target}…", style="TLabel")
        self.advice.configure(text="")
        self.form.set_busy(True, f"Diagnosing {target}")
        self.cancel_button.state(["!disabled"])
        self.task = self.app.runner.submit(
            _run, target, servers, resolver, name=f"Diagnose {target}",
            origin=handoff_origin(target), on_event=self._on_event, on_result=self._done,
            on_error=self._failed, on_done=self._finished)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _on_event(self, kind: str, step) -> None:
        if kind == "step":
            self.add_step(step)

    def add_step(self, step) -> None:
        parent = ""
        if step.section:
            parent = self._sections.get(step.section)
            if parent is None:
                parent = self._sections[step.section] = self.tree.insert(
                    "", "end", text=step.section, open=True, values=("", "", ""))
        time_text = f"{step.seconds * 1000:.0f} ms" if step.status != SKIP else ""
        row = self.tree.insert(parent, "end", text=step.title, open=step.status in (FAIL, WARN),
                               values=(MARKS[step.status], time_text, step.summary), tags=(step.status,))
        for detail in step.details:
            self.tree.insert(row, "end", text="", values=("", "", detail), tags=("detail",))
        self.tree.see(row)

    def _done(self, report) -> None:
        self.report = report
        verdict = report.verdict
        style = {OK: "Ok.TLabel", WARN: "TLabel", FAIL: "Error.TLabel"}[verdict.status]
        self.verdict.configure(text=f"{MARKS[verdict.status]}: {verdict.message}", style=style)
        self.advice.configure(text=f"Try: {verdict.advice}" if verdict.advice else "")
        self.form.set_status(f"Done in {report.seconds:.1f} s", "ok" if verdict.status == OK else "info")

    def _failed(self, err) -> None:
        self.verdict.configure(text=str(err), style="Error.TLabel")

    def _finished(self, task) -> None:
        if not self.winfo_exists():
            return
        self.form.set_busy(False)
        self.cancel_button.state(["disabled"])
        if task.state == "cancelled":
            self.form.set_status("Cancelled")
            self.verdict.configure(text="Cancelled", style="TLabel")

    def _remember(self, target: str) -> None:
        recent = [t for t in self.app.settings.get(RECENT_KEY, []) or [] if t != target]
        recent.insert(0, target)
        self.app.settings.set(RECENT_KEY, recent[:20])
        self.form.widgets["target"].configure(values=recent[:20])

    # -- results ------------------------------------------------------------------------------------
    def report_text(self) -> str:
        return self.report.to_text() if self.report is not None else ""

    def copy(self) -> None:
        self.clipboard_clear()
        self.clipboard_append(self.report_text())

    def save_dialog(self) -> None:
        if self.report is None:
            return
        path = filedialog.asksaveasfilename(parent=self, title="Save the report",
                                            defaultextension=".json", initialfile="doctor.json")
        if path:
            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(self.report.to_json() + "\n")
            except OSError as exc:
                self.form.set_status(f"Cannot write {path}: {exc.strerror or exc}", "error")

    def look_up(self) -> None:
        target = self.form.get("target").strip()
        try:
            parsed = parse_target(target)
        except Exception:
            return
        handoff.open_link(self.app, parsed.domain if parsed.kind != "email" else f"mailto:{parsed.email}",
                          "dns")

    def show_timeline(self) -> None:
        handoff.open_timeline(self.app, "tab:doctor")

    def _destroyed(self, event) -> None:
        if event.widget is self:
            if self.task is not None:
                self.task.cancel()
            if _windows.get(id(self.app)) is self:
                del _windows[id(self.app)]


def handoff_origin(target: str):
    from netgui.timeline import Origin
    return Origin("doctor", target, "", "", None, f"doctor:{target}")


def _target_problem(value) -> str | None:
    try:
        parse_target(str(value))
    except Exception as exc:  # DoctorInputError: one line saying why
        return str(exc)
    return None


def open_doctor(app, target: str = "", run: bool = True) -> DoctorWindow:
    """Open (or raise) the doctor; with ``target``, fill it in and (``run``) start at once."""
    window = _windows.get(id(app))
    if window is None or not window.winfo_exists():
        window = _windows[id(app)] = DoctorWindow(app)
    else:
        window.deiconify()
        window.lift()
    if target:
        window.form.set("target", target)
        if run:
            window.form.submit()
    window.form.widgets["target"].focus_set()
    return window
