"""Links in a Text widget: found (``netgui.net.links``), drawn as links, opened on a click and
offering a context menu of what else to do with them (the hand-off registry fills it).

    bind_links(text, on_open, actions)      # once per widget
    text.insert("end", *link_pieces(line, tags))   # or tag_links(text) after filling it
"""

from __future__ import annotations

import tkinter as tk
from typing import Callable

from netgui.net.links import Link, classify, find_links

LINK_TAG = "link"
Actions = Callable[[Link], list]
"""``actions(link)`` -> [(label, command) or None for a separator] for the context menu."""


def link_pieces(text: str, tags: tuple = ()) -> list:
    """``text`` as Text.insert arguments (text, tags, text, tags …) with links tagged."""
    out: list = []
    at = 0
    for start, end, _ in find_links(text):
        if start > at:
            out += [text[at:start], tags]
        out += [text[start:end], tuple(tags) + (LINK_TAG,)]
        at = end
    if at < len(text) or not out:
        out += [text[at:], tags]
    return out


def tag_links(widget: tk.Text, start: str = "1.0", end: str = "end-1c", limit: int = 1 << 20) -> int:
    """Tag the links between ``start`` and ``end`` (the first ``limit`` characters); returns how many."""
    text = widget.get(start, end)[:limit]
    spans = find_links(text)
    for a, b, _ in spans:
        widget.tag_add(LINK_TAG, f"{start}+{a}c", f"{start}+{b}c")
    return len(spans)


def link_at(widget: tk.Text, index: str) -> Link | None:
    """The link under ``index`` (e.g. ``@x,y``), if any."""
    if LINK_TAG not in widget.tag_names(index):
        return None
    span = widget.tag_prevrange(LINK_TAG, f"{index}+1c")
    if not span:
        return None
    return classify(widget.get(*span))


def bind_links(widget: tk.Text, on_open: Callable[[Link], None], actions: Actions,
               colour: str | None = None) -> None:
    """A click on a link opens it; a right click offers ``actions(link)``."""
    widget.tag_configure(LINK_TAG, underline=True, **({"foreground": colour} if colour else {}))
    widget.tag_bind(LINK_TAG, "<Enter>", lambda e: widget.configure(cursor="hand2"))
    widget.tag_bind(LINK_TAG, "<Leave>", lambda e: widget.configure(cursor=""))

    def clicked(event) -> str | None:
        if widget.tag_ranges("sel"):  # a drag that selected text is not a click
            return None
        link = link_at(widget, f"@{event.x},{event.y}")
        if link is not None:
            on_open(link)
            return "break"
        return None

    def menu(event) -> str | None:
        link = link_at(widget, f"@{event.x},{event.y}")
        if link is None:
            return None
        popup(widget, actions(link), event)
        return "break"

    widget.tag_bind(LINK_TAG, "<ButtonRelease-1>", clicked)
    widget.tag_bind(LINK_TAG, "<Button-3>", menu)


def popup(widget: tk.Misc, items: list, event=None, post: bool = True) -> tk.Menu:
    """A context menu of ``items`` ((label, command) or None); kept as ``widget.context_menu``
    (tests read and invoke it)."""
    menu = tk.Menu(widget, tearoff=False)
    for item in items:
        if item is None:
            menu.add_separator()
        else:
            label, command = item
            menu.add_command(label=label, command=command)
    widget.context_menu = menu  # type: ignore[attr-defined]
    if post and event is not None:
        try:
            menu.tk_popup(event.x_root, event.y_root)
        finally:
            menu.grab_release()
    return menu


def menu_labels(menu: tk.Menu) -> list[str]:
    end = menu.index("end")
    return [menu.entrycget(i, "label") for i in range(0 if end is None else end + 1)
            if menu.type(i) == "command"]


def click_link(widget: tk.Text, text: str, button: int = 1) -> None:
    """Click (or right-click) the first link reading ``text`` as a user would (tests)."""
    ranges = widget.tag_ranges(LINK_TAG)
    for start, end in zip(ranges[::2], ranges[1::2]):
        if widget.get(start, end) == text:
            break
    else:
        raise AssertionError(f"no link {text!r} in the widget")
    widget.see(start)
    widget.update_idletasks()
    x, y, _, height = widget.bbox(start)
    x, y = x + 1, y + height // 2
    widget.event_generate("<Enter>", x=x, y=y)
    widget.event_generate("<Motion>", x=x, y=y)
    widget.event_generate(f"<ButtonPress-{button}>", x=x, y=y)
    widget.event_generate(f"<ButtonRelease-{button}>", x=x, y=y)
