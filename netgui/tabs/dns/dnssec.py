"""The DNS tab's DNSSEC page: validate the form's question from a trust anchor down, like
``delv``: the verdict, why and where it failed, and the chain of trust (each zone's DNSKEY,
DS and RRSIG checks with key tags and signature dates), with a trust anchor file setting."""

from __future__ import annotations

from tkinter import ttk

from netgui.net.dns.dnssec import validate

from .widgets import QuestionPage

ANCHOR_KEY = "dns.anchor"
VERDICT_TEXT = {"secure": "SECURE", "insecure": "INSECURE", "bogus": "BOGUS",
                "indeterminate": "INDETERMINATE"}
VERDICT_STYLE = {"secure": "Ok.TLabel", "insecure": "Warn.TLabel", "bogus": "Error.TLabel",
                 "indeterminate": "Warn.TLabel"}


def _validate_worker(ctx, name, rdtype, server, transport, anchor, timeout, extra):
    ctx.status(f"Validating {name} {rdtype}")

    def log(direction, text) -> None:
        ctx.log(direction, text)
        if direction == ">":
            ctx.status("Validating: asking for " + text.split(" to ", 1)[0])

    return validate(name, rdtype, server, transport, anchors=anchor or None, timeout=timeout,
                    token=ctx.token, log=log, **extra)


class ValidationPane(QuestionPage):
    """A trust anchor file, a Validate button, the verdict with its reason and the chain."""

    def __init__(self, master, tab):
        super().__init__(master, tab, "Validate", "Trust anchor:",
                         tab.app.settings.get(ANCHOR_KEY, "") or "",
                         "Trust anchor (DS or DNSKEY lines, or trust-anchors { })",
                         [("Anchors", "*.ds *.key *.conf *.txt"), ("All", "*")])
        self.anchor = self.file
        self.validation = None
        verdict = ttk.Frame(self)
        verdict.pack(side="top", fill="x", pady=(4, 2))
        self.verdict = ttk.Label(verdict, text="", font=("TkDefaultFont", 11, "bold"))
        self.verdict.pack(side="left", anchor="n")
        self.reason = ttk.Label(verdict, text="Empty anchor: the root's keys (Debian's root.ds "
                                "or IANA's). The server above is asked with DO and CD.",
                                style="Status.TLabel", anchor="w", justify="left")
        self.reason.pack(side="left", fill="x", expand=True, padx=(8, 0))
        self.bind("<Configure>", self._wrap)
        self.tree = self.tree_view((("#0", "Zone", 150, False), ("what", "Check", 190, False),
                                    ("status", "Status", 90, False),
                                    ("detail", "Detail", 520, True)))

    def _wrap(self, event) -> None:
        # the page's width is set by the notebook, not by the label: no feedback loop
        self.reason.configure(wraplength=max(200, event.width - self.verdict.winfo_reqwidth() - 30))

    def set_palette(self, palette) -> None:
        ttk.Style(self).configure("Warn.TLabel", foreground=palette.warn)
        for tag, colour in (("secure", palette.ok), ("insecure", palette.warn),
                            ("bogus", palette.error), ("indeterminate", palette.warn),
                            ("record", palette.muted)):
            self.tree.tag_configure(tag, foreground=colour)

    def run(self) -> bool:
        opts = self.begin()
        if opts is None:
            return False
        anchor = self.anchor.get().strip()
        self.tab.app.settings.set(ANCHOR_KEY, anchor)
        self.tree.delete(*self.tree.get_children())
        self.validation = None
        name, rdtype = opts["name"], opts["rdtype"].upper()
        self.verdict.configure(text="")
        self.say(f"Validating {name} {rdtype}…")
        self.running()
        extra = {"edns": opts["edns"], "doh_method": opts["doh_method"],
                 "http_version": opts["http_version"]}
        self.task = self.tab.start(
            _validate_worker, name, rdtype, opts["server"], opts["transport"], anchor,
            opts["timeout"], extra, name=f"DNSSEC {name}", busy_text=f"Validating {name}…",
            on_result=self.show, on_error=self._on_error, on_done=self._on_done)
        return self.task is not None

    def say(self, text: str, error: bool = False) -> None:
        self.reason.configure(text=text, style="Error.TLabel" if error else "Status.TLabel")

    def show(self, result) -> None:
        """The verdict, its reason and place, and one row per link of the chain."""
        self.validation = result
        self.verdict.configure(text=VERDICT_TEXT[result.verdict],
                               style=VERDICT_STYLE[result.verdict])
        if result.verdict == "secure":
            line = f"{result.qname} {result.qtype}: {result.reason}"
        else:
            where = f" at {result.where}" if result.where else ""
            line = f"{result.qname} {result.qtype}{where}: {result.reason}"
        self.reason.configure(text=line, style="TLabel")
        first_problem = None
        for link in result.chain:
            item = self.tree.insert("", "end", text=link.zone, open=link.status != "secure",
                                    values=(link.what, link.status, link.detail),
                                    tags=(link.status,))
            if link.status != "secure" and first_problem is None:
                first_problem = item
            for line in link.records:
                kind, _, rest = line.partition(" ")
                self.tree.insert(item, "end", text="", values=(kind, "", rest),
                                 tags=("record",))
        if result.answer:
            item = self.tree.insert("", "end", text=result.qname, open=True,
                                    values=("answer", result.verdict, f"{result.rcode}, "
                                            f"{_records(len(result.answer))}"),
                                    tags=(result.verdict,))
            for record in result.answer:
                self.tree.insert(item, "end", text="", values=(record.rdtype, "", record.data),
                                 tags=("record",))
        if first_problem is not None:
            self.tree.selection_set(first_problem)
            self.tree.see(first_problem)
        good = result.verdict in ("secure", "insecure")
        self.tab.form.set_status(result.summary(), "ok" if good else "error")
        self.tab.app.set_status(result.summary())

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(zone, check, status, detail) of each link, top to bottom."""
        return [(self.tree.item(i, "text"),) + tuple(str(v) for v in self.tree.item(i, "values"))
                for i in self.tree.get_children()]

    def _on_error(self, err) -> None:
        self.verdict.configure(text="")
        super()._on_error(err)


def _records(count: int) -> str:
    return f"{count} record" + ("" if count == 1 else "s")


__all__ = ["ValidationPane"]
