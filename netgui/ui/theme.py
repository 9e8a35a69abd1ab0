"""Light and dark themes (Sun Valley ttk theme) and colours for classic Tk widgets."""

from __future__ import annotations

import os
import tkinter as tk
from dataclasses import dataclass
from tkinter import font as tkfont
from tkinter import ttk


@dataclass(frozen=True)
class Palette:
    """Colours for widgets the ttk theme does not style (tk.Text, tk.Listbox, canvases)."""

    name: str
    bg: str
    fg: str
    field_bg: str
    muted: str
    accent: str
    error: str
    ok: str
    warn: str
    sent: str
    received: str
    select_bg: str
    highlight_bg: str


LIGHT = Palette("light", bg="#fafafa", fg="#1c1c1c", field_bg="#ffffff", muted="#6b6b6b",
                accent="#005fb8", error="#c42b1c", ok="#0f7b0f", warn="#9d5d00", sent="#005fb8",
                received="#1c1c1c", select_bg="#cce4f7", highlight_bg="#fff4ce")
DARK = Palette("dark", bg="#1c1c1c", fg="#fafafa", field_bg="#2b2b2b", muted="#a0a0a0",
               accent="#57c8ff", error="#ff99a4", ok="#6ccb5f", warn="#fce100", sent="#57c8ff",
               received="#fafafa", select_bg="#264f78", highlight_bg="#4d3d00")
PALETTES = {"light": LIGHT, "dark": DARK}


def apply_scaling(root: tk.Misc, factor: float | None = None) -> float:
    """Multiply Tk's scaling by ``factor`` (default: $NETGUI_SCALE or $GDK_SCALE, else 1).

    Tk already derives its scaling from the screen's DPI; the factor is for screens
    that report a wrong DPI, as desktop toolkits' scale variables are.
    """
    if factor is None:
        try:
            factor = float(os.environ.get("NETGUI_SCALE") or os.environ.get("GDK_SCALE") or 1)
        except ValueError:
            factor = 1.0
    if factor <= 0:
        factor = 1.0
    # Absolute, from the screen's DPI: Tk keeps "tk scaling" per display, so a relative
    # change would compound across windows of one process.
    root.tk.call("tk", "scaling", root.winfo_fpixels("1i") / 72 * factor)
    return factor


def _use_point_sizes(root: tk.Misc) -> None:
    """Named fonts sized in pixels (sv_ttk's) get point sizes, so they follow the DPI."""
    for name in tkfont.names(root):
        font = tkfont.nametofont(name, root=root)
        size = int(font.cget("size"))
        if size < 0:
            font.configure(size=max(6, round(-size * 0.75)))  # 1 px = 0.75 pt at 96 DPI


def apply_theme(root: tk.Misc, mode: str) -> Palette:
    """Switch the whole application to ``mode`` ('light' or 'dark'); returns its palette."""
    palette = PALETTES.get(mode, LIGHT)
    try:
        import sv_ttk
        sv_ttk.set_theme(palette.name, root)
        _use_point_sizes(root)
    except Exception:  # the theme package is missing or broken: fall back to a built-in theme
        style = ttk.Style(root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        style.layout("Accent.TButton", style.layout("TButton"))
    root._netgui_palette = palette
    _configure_styles(root, palette)
    if not getattr(root, "_netgui_theme_bound", False):
        # sv_ttk resets styles when it handles <<ThemeChanged>>; configure ours again after it.
        root.bind_class(root.winfo_class(), "<<ThemeChanged>>",
                        lambda e: _configure_styles(root, root._netgui_palette), add="+")
        root._netgui_theme_bound = True
    root.event_generate("<<ThemeChanged>>", when="tail")
    return palette


def _configure_styles(root: tk.Misc, palette: Palette) -> None:
    _clear_palette_colours(root)
    style = ttk.Style(root)
    style.configure("Error.TLabel", foreground=palette.error)
    style.configure("Ok.TLabel", foreground=palette.ok)
    style.configure("Muted.TLabel", foreground=palette.muted)
    style.configure("Status.TLabel", foreground=palette.muted)
    style.configure("Treeview", rowheight=_row_height(root))


def _clear_palette_colours(widget: tk.Misc) -> None:
    """Undo what sv_ttk's ``tk_setPalette`` did to ttk labels: it sets their -foreground
    and -background options outright, which would override styles such as Error.TLabel."""
    for child in widget.winfo_children():
        if child.winfo_class() == "TLabel":
            child.configure(foreground="", background="")
        _clear_palette_colours(child)


def _row_height(root: tk.Misc) -> int:
    """Treeview rows tall enough for the default font at the screen's scaling (HiDPI)."""
    linespace = tkfont.nametofont("TkDefaultFont", root=root).metrics("linespace")
    return max(22, int(linespace * 1.6))


def style_text(widget: tk.Text | tk.Listbox, palette: Palette) -> None:
    """Colour a classic Tk text-like widget to match the palette."""
    options = dict(background=palette.field_bg, foreground=palette.fg,
                   selectbackground=palette.select_bg, selectforeground=palette.fg,
                   highlightthickness=0, borderwidth=0)
    if isinstance(widget, tk.Text):
        options["insertbackground"] = palette.fg
    widget.configure(**options)


def monospace(root: tk.Misc) -> tkfont.Font:
    """The fixed-width font at the default font's size."""
    return tkfont.nametofont("TkFixedFont", root=root)


def accent_button_style(widget: tk.Misc) -> str:
    """'Accent.TButton' where the theme defines it, else the plain button style."""
    try:
        ttk.Style(widget).layout("Accent.TButton")
        return "Accent.TButton"
    except tk.TclError:
        return "TButton"
