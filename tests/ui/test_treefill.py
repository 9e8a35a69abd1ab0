"""Many Treeview rows in one Tcl call: values of any shape arrive unchanged."""

from __future__ import annotations

from tkinter import ttk

from netgui.ui.treefill import insert_rows, row_options


def test_rows_arrive_as_given(root):
    tree = ttk.Treeview(root, columns=("a", "b", "c"))
    odd = ["", "two words", "{brace", "back\\slash", "$var [cmd]", "Grüße €", "\"quoted\"", None]
    rows = [row_options((value, i, "x"), ("bad",) if i % 2 else (), iid=f"r{i}", text=f"t{i}")
            for i, value in enumerate(odd)]
    ids = insert_rows(tree, rows)
    assert ids == tuple(f"r{i}" for i in range(len(odd)))
    for i, value in enumerate(odd):
        assert tree.set(f"r{i}", "a") == ("" if value is None else value)
        assert tree.item(f"r{i}", "text") == f"t{i}"
        assert tree.tag_has("bad", f"r{i}") == bool(i % 2)
    assert insert_rows(tree, []) == ()
    more = insert_rows(tree, [row_options(("z",))], index=0)  # ids made by Tk, at the top
    assert tree.get_children()[0] == more[0]
