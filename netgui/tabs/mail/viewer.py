"""The message viewer: headers, the text, attachments (save, open, image preview) and raw source."""

from __future__ import annotations

import io
import tkinter as tk
from tkinter import ttk
from typing import Callable

from netgui.fmt import human_bytes
from netgui.net.mail.message import Attachment, ParsedMessage
from netgui.ui.links import tag_links
from netgui.ui.theme import LIGHT, Palette, monospace, style_text

PREVIEW_MAX = (240, 110)
SOURCE_LIMIT = 2_000_000


class MessageViewer(ttk.Frame):
    """Shows one ParsedMessage. ``on_save(att)`` / ``on_open(att)`` handle attachment buttons."""

    def __init__(self, master, on_save: Callable[[Attachment], None] | None = None,
                 on_open: Callable[[Attachment], None] | None = None, palette: Palette = LIGHT, **kw):
        super().__init__(master, **kw)
        self.on_save = on_save
        self.on_open = on_open
        self.message: ParsedMessage | None = None
        self._photo = None

        head = ttk.Frame(self, padding=(4, 2))
        head.pack(side="top", fill="x")
        head.columnconfigure(1, weight=1)
        self.header_labels: dict[str, ttk.Label] = {}
        self._header_titles: dict[str, ttk.Label] = {}
        for row, (key, label) in enumerate((("subject", ""), ("sender", "From"), ("to", "To"),
                                            ("cc", "Cc"), ("date", "Date"))):
            if label:
                title = ttk.Label(head, text=label + ":", style="Muted.TLabel")
                title.grid(row=row, column=0, sticky="ne", padx=(0, 6))
                self._header_titles[key] = title
            value = ttk.Label(head, text="", anchor="w", wraplength=700, justify="left")
            value.grid(row=row, column=1 if label else 0, columnspan=1 if label else 2, sticky="w")
            self.header_labels[key] = value
        self._subject_font()
        self.note = ttk.Label(head, text="", style="Muted.TLabel")
        self.note.grid(row=5, column=0, columnspan=2, sticky="w")

        self.pages = ttk.Notebook(self)
        self.pages.pack(side="top", fill="both", expand=True)

        message_page = ttk.Frame(self.pages)
        self.pages.add(message_page, text="Message")
        body = self._body = ttk.Frame(message_page)
        body.pack(side="top", fill="both", expand=True)
        self.text = tk.Text(body, wrap="word", height=6, state="disabled", undo=False,
                            relief="flat", padx=8, pady=6, font="TkTextFont")
        scroll = ttk.Scrollbar(body, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)

        self.attach_frame = ttk.Frame(message_page, padding=(0, 4, 0, 0))
        self.attachments = ttk.Treeview(self.attach_frame, columns=("name", "type", "size"),
                                        show="headings", height=3, selectmode="browse")
        for col, title, width in (("name", "Attachment", 260), ("type", "Type", 140), ("size", "Size", 80)):
            self.attachments.heading(col, text=title)
            self.attachments.column(col, width=width, stretch=col == "name",
                                    anchor="e" if col == "size" else "w")
        self.attachments.grid(row=0, column=0, rowspan=3, sticky="nsew")
        self.save_button = ttk.Button(self.attach_frame, text="Save…", command=self._save)
        self.save_button.grid(row=0, column=1, sticky="ew", padx=(6, 0))
        self.open_button = ttk.Button(self.attach_frame, text="Open", command=self._open)
        self.open_button.grid(row=1, column=1, sticky="ew", padx=(6, 0), pady=(4, 0))
        self.preview = ttk.Label(self.attach_frame)
        self.preview.grid(row=0, column=2, rowspan=3, sticky="nw", padx=(8, 0))
        self.attach_frame.columnconfigure(0, weight=1)
        self.attachments.bind("<<TreeviewSelect>>", lambda e: self._show_preview())
        self.attachments.bind("<Double-1>", lambda e: self._open())

        source_page = ttk.Frame(self.pages)
        self.pages.add(source_page, text="Source")
        self.source = tk.Text(source_page, wrap="none", height=6, state="disabled", undo=False,
                              font=monospace(self))
        sy = ttk.Scrollbar(source_page, orient="vertical", command=self.source.yview)
        self.source.configure(yscrollcommand=sy.set)
        sy.pack(side="right", fill="y")
        self.source.pack(side="left", fill="both", expand=True)
        self._source_loaded = False
        self.pages.bind("<<NotebookTabChanged>>", lambda e: self._maybe_fill_source())
        self.set_palette(palette)
        self.clear()

    def _subject_font(self):
        from tkinter import font as tkfont
        f = tkfont.nametofont("TkDefaultFont").copy()
        f.configure(size=f.cget("size") + 3, weight="bold")
        self._big = f
        self.header_labels["subject"].configure(font=f)

    def set_palette(self, palette: Palette) -> None:
        style_text(self.text, palette)
        style_text(self.source, palette)

    def add_page(self, widget, title: str) -> None:
        self.pages.add(widget, text=title)

    # -- content --------------------------------------------------------------------
    def _set_text(self, widget: tk.Text, text: str) -> None:
        widget.configure(state="normal")
        widget.delete("1.0", "end")
        widget.insert("1.0", text)
        widget.configure(state="disabled")

    def clear(self, note: str = "") -> None:
        self.message = None
        for label in self.header_labels.values():
            label.configure(text="")
        self.note.configure(text=note)
        self._set_text(self.text, "")
        self._set_text(self.source, "")
        self._show_attachments([])

    def show(self, message: ParsedMessage) -> None:
        self.message = message
        h = self.header_labels
        h["subject"].configure(text=message.subject or "(no subject)")
        h["sender"].configure(text=message.sender)
        h["to"].configure(text=message.to)
        h["cc"].configure(text=message.cc)
        h["date"].configure(text=message.date_text)
        for key, title in self._header_titles.items():  # hide empty lines (often Cc)
            if h[key].cget("text"):
                title.grid()
                h[key].grid()
            else:
                title.grid_remove()
                h[key].grid_remove()
        self.note.configure(text="This HTML message is shown as plain text; nothing remote was loaded."
                            if message.from_html else "")
        self._set_text(self.text, message.text or "(this message has no text)")
        tag_links(self.text)  # addresses and links open in their tabs
        self._source_loaded = False
        self._set_text(self.source, "")
        self._maybe_fill_source()
        self._show_attachments(message.attachments)

    def _maybe_fill_source(self):
        if self.message is None or self._source_loaded:
            return
        if self.pages.index(self.pages.select()) != 1:
            return
        raw = self.message.raw
        text = raw[:SOURCE_LIMIT].decode("utf-8", "replace")
        if len(raw) > SOURCE_LIMIT:
            text += f"\n… ({human_bytes(len(raw))} in all; the rest is not shown)"
        self._set_text(self.source, text)
        self._source_loaded = True

    def show_source(self) -> None:
        self.pages.select(1)
        self._maybe_fill_source()

    def source_text(self) -> str:
        return self.source.get("1.0", "end-1c")

    def body_text(self) -> str:
        return self.text.get("1.0", "end-1c")

    def _show_attachments(self, items: list[Attachment]) -> None:
        self.attachments.delete(*self.attachments.get_children())
        for att in items:
            self.attachments.insert("", "end", iid=str(att.index),
                                    values=(att.safe_name, att.content_type, human_bytes(att.size)))
        self._photo = None
        self.preview.configure(image="", text="")
        if items:
            self.attach_frame.pack(side="bottom", fill="x", before=self._body)
            self.attachments.configure(height=min(3, len(items)))
            first_image = next((a for a in items if a.is_image), items[0])
            self.attachments.selection_set(str(first_image.index))
        else:
            self.attach_frame.pack_forget()

    def selected_attachment(self) -> Attachment | None:
        sel = self.attachments.selection()
        if not sel or self.message is None:
            return None
        return self.message.attachments[int(sel[0])]

    def _show_preview(self) -> None:
        att = self.selected_attachment()
        self._photo = None
        self.preview.configure(image="", text="")
        if att is None or not att.is_image:
            return
        try:
            from PIL import Image, ImageTk
            with Image.open(io.BytesIO(att.data())) as img:
                img.thumbnail(PREVIEW_MAX)
                self._photo = ImageTk.PhotoImage(img.convert("RGBA"), master=self)
            self.preview.configure(image=self._photo)
        except Exception:
            self.preview.configure(text="(no preview: not a readable image)")

    @property
    def preview_size(self) -> tuple[int, int] | None:
        if self._photo is None:
            return None
        return self._photo.width(), self._photo.height()

    def _save(self):
        att = self.selected_attachment()
        if att is not None and self.on_save:
            self.on_save(att)

    def _open(self):
        att = self.selected_attachment()
        if att is not None and self.on_open:
            self.on_open(att)
