"""The DNS tab's Trace page: resolve the form's question from the root like ``dig +trace``,
shown as a tree that grows step by step (each zone's servers, who answered, the referral
or answer, times), with a root hints file and a port setting."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from netgui.net.dns.trace import trace

from .widgets import QuestionPage

HINTS_KEY = "dns.trace"
KIND_TAGS = {"referral": "step", "answer": "answer", "cname": "step", "nxdomain": "negative",
             "nodata": "negative", "error": "bad", "failure": "bad", "record": "record",
             "glue": "glue", "note": "note"}


def _trace_worker(ctx, name, rdtype, hints, port, transport, timeout, edns):
    ctx.status(f"Tracing {name} {rdtype} from the root")

    def step_done(step) -> None:
        ctx.event("step", step)
        ctx.status(f"Traced {step.headline()}")

    return trace(name, rdtype, hints=hints or None, port=port, transport=transport,
                 timeout=timeout, token=ctx.token, log=ctx.log, edns=edns, on_step=step_done)


class TracePane(QuestionPage):
    """A root hints file, a port, a Trace button and the tree of steps."""

    def __init__(self, master, tab):
        stored = tab.app.settings.get(HINTS_KEY, {}) or {}
        super().__init__(master, tab, "Trace from the root", "Root hints:",
                         stored.get("hints", ""), "Root hints file (named.root format)",
                         [("Root hints", "*.hints *.root *.txt"), ("All", "*")])
        self.hints = self.file
        self.trace = None
        self._parent = ""
        self.step_items: list[str] = []
        ttk.Label(self.bar, text="Port:").pack(side="left", padx=(8, 0))
        self.port = tk.StringVar(self, value=str(stored.get("port", 53)))
        ttk.Spinbox(self.bar, textvariable=self.port, from_=1, to=65535, width=6).pack(
            side="left", padx=(3, 0))
        self.status = ttk.Label(self, text="Empty hints: the root servers (Debian's root.hints "
                                "or the built-in list). Every server is asked on the port.",
                                style="Status.TLabel", anchor="w")
        self.status.pack(side="top", fill="x", pady=(3, 3))
        self.tree = self.tree_view((("#0", "Step / record", 420, True),
                                    ("server", "Answered by", 230, False),
                                    ("ms", "ms", 60, False), ("bytes", "Bytes", 60, False)))
        for key in ("ms", "bytes"):
            self.tree.column(key, anchor="e")
            self.tree.heading(key, anchor="e")

    def set_palette(self, palette) -> None:
        for tag, colour in (("answer", palette.ok), ("negative", palette.warn),
                            ("bad", palette.error), ("glue", palette.muted),
                            ("note", palette.accent), ("record", palette.fg),
                            ("step", palette.fg)):
            self.tree.tag_configure(tag, foreground=colour)

    # -- running -----------------------------------------------------------------------
    def run(self) -> bool:
        opts = self.begin()
        if opts is None:
            return False
        try:
            port = int(self.port.get())
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            self.say("The port must be a number from 1 to 65535", error=True)
            return False
        hints = self.hints.get().strip()
        self.tab.app.settings.set(HINTS_KEY, {"hints": hints, "port": port})
        self.tree.delete(*self.tree.get_children())
        self.trace = None
        self.step_items = []
        name, rdtype = opts["name"], opts["rdtype"].upper()
        self._parent = self.tree.insert("", "end", text=f"{name} {rdtype}", open=True,
                                        tags=("step",))
        self.say(f"Tracing {name} {rdtype} from the root…")
        self.running()
        transport = "tcp" if opts["transport"] == "tcp" else "udp"
        self.task = self.tab.start(
            _trace_worker, name, rdtype, hints, port, transport, opts["timeout"], opts["edns"],
            name=f"DNS trace {name}", busy_text=f"Tracing {name} {rdtype}…",
            on_event=self._on_event, on_result=self.show, on_error=self._on_error,
            on_done=self._on_done)
        return self.task is not None

    def say(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.configure(text=text, style="Error.TLabel" if error else
                              "Ok.TLabel" if ok else "Status.TLabel")

    def _on_event(self, kind, step) -> None:
        if kind == "step":
            self.add_step(step)

    def add_step(self, step) -> str:
        """A node for a finished step (child of the previous step), with its records."""
        item = self.tree.insert(
            self._parent, "end", text=f"{step.zone}  {step.outcome()}", open=True,
            tags=(KIND_TAGS.get(step.kind, "step"),),
            values=(step.server or "", "" if step.elapsed_ms is None else f"{step.elapsed_ms:.1f}",
                    step.size or ""))
        servers = ", ".join(f"{n} {a}" for n, a in step.servers)
        self.tree.insert(item, "end", text=f"servers of {step.zone}: {servers}", tags=("glue",))
        for failure in step.failures:
            self.tree.insert(item, "end", text=failure, tags=("bad",))
        for record in step.records:
            self.tree.insert(item, "end", text=_line(record), tags=("record",))
        for record in step.glue:
            self.tree.insert(item, "end", text="glue  " + _line(record), tags=("glue",))
        for note in step.notes:
            self.tree.insert(item, "end", text=note, tags=("note",))
        self._parent = item
        self.step_items.append(item)
        self.tree.see(item)
        return item

    def show(self, result) -> None:
        self.trace = result
        if result.error:
            self.tree.insert(self._parent, "end", text=result.error, tags=("bad",))
        self.say(result.summary(), error=bool(result.error), ok=result.outcome == "answer")
        self.tab.form.set_status(result.summary(), "error" if result.error else "ok")
        self.tab.app.set_status(result.summary())

    def steps(self) -> list[tuple[str, tuple[str, ...]]]:
        """(text, (server, ms, bytes)) of each step node, top to bottom."""
        return [(self.tree.item(i, "text"), tuple(str(v) for v in self.tree.item(i, "values")))
                for i in self.step_items]

    def children_text(self, index: int) -> list[str]:
        """The lines under step ``index`` (servers, failures, records, glue, notes)."""
        item = self.step_items[index]
        return [self.tree.item(k, "text") for k in self.tree.get_children(item)
                if k not in self.step_items]


def _line(record) -> str:
    return f"{record.name}  {record.ttl}  {record.rdtype}  {record.data}"


__all__ = ["TracePane"]
