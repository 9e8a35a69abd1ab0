"""The query options strip under the DNS tab's form: header flags (RD, DO, CD), EDNS options
(NSID, cookie, client subnet, padding, buffer size) and, for DNS over HTTPS, the method and
HTTP version — dig's ``+options`` as two rows of small widgets, remembered in the settings."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from netgui.net.dns.doh import HTTP_VERSIONS, METHODS
from netgui.net.dns.edns import DEFAULT_PAYLOAD, EdnsInputError, EdnsOptions

STORE_KEY = "dns.options"
HTTP_CHOICES = {"auto": "HTTP auto", "2": "HTTP/2", "1.1": "HTTP/1.1"}
DEFAULTS = {"rd": True, "do": False, "cd": False, "nsid": False, "cookie": False, "subnet": "",
            "padding": "0", "payload": str(DEFAULT_PAYLOAD), "method": "POST", "http": "auto"}


class QueryOptions(ttk.Frame):
    """Flags, EDNS and DoH options; ``values()`` checks them and returns what the cores take."""

    def __init__(self, master, settings):
        super().__init__(master)
        self.settings = settings
        stored = {**DEFAULTS, **(settings.get(STORE_KEY, {}) or {})}
        self.vars: dict[str, tk.Variable] = {}
        flags = ttk.Frame(self)
        flags.pack(side="top", fill="x")
        edns = ttk.Frame(self)
        edns.pack(side="top", fill="x", pady=(2, 0))

        ttk.Label(flags, text="Flags:", style="Muted.TLabel").pack(side="left")
        for key, text in (("rd", "RD recursion"), ("do", "DO DNSSEC"), ("cd", "CD")):
            self._check(flags, key, text, stored)
        ttk.Label(flags, text="DoH:", style="Muted.TLabel").pack(side="left", padx=(14, 4))
        self._choice(flags, "method", METHODS, stored, 6)
        self._choice(flags, "http", [HTTP_CHOICES[v] for v in HTTP_VERSIONS], stored, 9,
                     shown=HTTP_CHOICES.get(stored["http"], HTTP_CHOICES["auto"]))

        ttk.Label(edns, text="EDNS:", style="Muted.TLabel").pack(side="left")
        self._check(edns, "nsid", "NSID", stored)
        self._check(edns, "cookie", "Cookie", stored)
        self._entry(edns, "subnet", "Subnet", stored, 15)
        self._entry(edns, "padding", "Padding", stored, 4)
        self._entry(edns, "payload", "Buffer", stored, 6)

    def _check(self, parent, key, text, stored) -> None:
        var = self.vars[key] = tk.BooleanVar(self, value=bool(stored[key]))
        ttk.Checkbutton(parent, text=text, variable=var).pack(side="left", padx=(6, 0))

    def _entry(self, parent, key, label, stored, width) -> None:
        ttk.Label(parent, text=label + ":").pack(side="left", padx=(10, 3))
        var = self.vars[key] = tk.StringVar(self, value=str(stored[key]))
        ttk.Entry(parent, textvariable=var, width=width).pack(side="left")

    def _choice(self, parent, key, choices, stored, width, shown=None) -> None:
        var = self.vars[key] = tk.StringVar(self, value=shown or stored[key])
        ttk.Combobox(parent, textvariable=var, values=list(choices), width=width,
                     state="readonly").pack(side="left", padx=(0, 4))

    def set(self, **values) -> None:
        """Set options by key (``rd=False``, ``subnet="192.0.2.0/24"``, ``http="2"``)."""
        for key, value in values.items():
            if key == "http":
                value = HTTP_CHOICES.get(str(value), value)
            self.vars[key].set(value)

    def raw(self) -> dict:
        out = {key: var.get() for key, var in self.vars.items()}
        out["http"] = next((v for v, text in HTTP_CHOICES.items() if text == out["http"]), "auto")
        return out

    def values(self) -> dict:
        """``rd``, ``do``, ``cd``, ``edns`` (EdnsOptions or None), ``doh_method``,
        ``http_version``; EdnsInputError when a value is not valid. Remembers them."""
        raw = self.raw()
        try:
            padding = int(str(raw["padding"]).strip() or 0)
            payload = int(str(raw["payload"]).strip() or DEFAULT_PAYLOAD)
        except ValueError:
            raise EdnsInputError("EDNS padding and buffer size are whole numbers of bytes") from None
        edns = EdnsOptions(nsid=raw["nsid"], ecs=raw["subnet"].strip() or None,
                           cookie=raw["cookie"], padding=padding, payload=payload).check()
        self.settings.set(STORE_KEY, raw)
        return {"rd": raw["rd"], "do": raw["do"], "cd": raw["cd"],
                "edns": edns if edns.any else None,
                "doh_method": raw["method"], "http_version": raw["http"]}

    def describe(self) -> str:
        """The options that differ from dig's defaults, for the transcript: ``+nsid +subnet=…``."""
        raw = self.raw()
        words = [("+norec" if not raw["rd"] else ""), ("+dnssec" if raw["do"] else ""),
                 ("+cd" if raw["cd"] else ""), ("+nsid" if raw["nsid"] else ""),
                 ("+cookie" if raw["cookie"] else ""),
                 (f"+subnet={raw['subnet'].strip()}" if raw["subnet"].strip() else ""),
                 (f"+padding={raw['padding']}" if str(raw["padding"]).strip() not in ("", "0") else ""),
                 (f"+bufsize={raw['payload']}" if str(raw["payload"]).strip() not in
                  ("", str(DEFAULT_PAYLOAD)) else "")]
        return " ".join(w for w in words if w)


__all__ = ["QueryOptions"]
