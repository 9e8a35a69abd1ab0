"""Filling a ttk.Treeview with many rows in one Tcl call.

tkinter releases the GIL around every Tcl call and must take it back afterwards;
while a worker thread is busy in Python that costs up to the switch interval per
call, so inserting 50 rows one by one could hold the window up for 50 ms.
``insert_rows`` hands all of them to a small Tcl procedure at once.
"""

from __future__ import annotations

from tkinter import ttk
from typing import Iterable, Sequence

_PROC = "::netgui_insert_rows"
_SCRIPT = """
proc %s {tree parent index rows} {
    set ids {}
    foreach options $rows {
        lappend ids [$tree insert $parent $index {*}$options]
    }
    return $ids
}
""" % _PROC


def row_options(values: Sequence, tags: Sequence[str] = (), iid: str | None = None,
                **options) -> tuple:
    """The ``insert`` options for one row (cell values are passed as text)."""
    out: list = [] if iid is None else ["-id", iid]  # Tk wants -id before the options
    out += ["-values", tuple("" if v is None else str(v) for v in values)]
    if tags:
        out += ["-tags", tuple(tags)]
    for name, value in options.items():
        out += [f"-{name}", value]
    return tuple(out)


def insert_rows(tree: ttk.Treeview, rows: Iterable[tuple], parent: str = "",
                index: str = "end") -> tuple[str, ...]:
    """Insert rows made by ``row_options``; returns their item ids."""
    rows = tuple(rows)
    if not rows:
        return ()
    tk = tree.tk
    if not tk.call("info", "procs", _PROC):
        tk.eval(_SCRIPT)
    return tk.splitlist(tk.call(_PROC, str(tree), parent, index, rows))
