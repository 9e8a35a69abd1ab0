"""The Web tab's response side: body views (Text, HTML, JSON, Image, Hex), headers, details.

Everything here renders data prepared off the Tk thread (``netgui.net.http.content.render``);
image decoding and scaling is handed back to the tab, which runs it through the task runner.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import Callable

from netgui.fmt import human_bytes
from netgui.net.http.content import HEX_LIMIT
from netgui.ui.theme import LIGHT, Palette, monospace, style_text

VIEWS = ("Text", "HTML", "JSON", "Image", "Hex")
JSON_PAGE = 500  # children inserted per opened JSON node; more behind a "…" row


def scrolled_text(master, wrap="word", font=None) -> tk.Text:
    """A read-only tk.Text with a vertical scrollbar, packed into ``master``."""
    frame = ttk.Frame(master)
    frame.pack(fill="both", expand=True)
    text = tk.Text(frame, wrap=wrap, state="disabled", undo=False, font=font, height=10,
                   padx=6, pady=4)
    scroll = ttk.Scrollbar(frame, orient="vertical", command=text.yview)
    text.configure(yscrollcommand=scroll.set)
    scroll.pack(side="right", fill="y")
    text.pack(side="left", fill="both", expand=True)
    return text


def _set_text(widget: tk.Text, content: str) -> None:
    widget.configure(state="normal")
    widget.delete("1.0", "end")
    widget.insert("1.0", content)
    widget.configure(state="disabled")


class BodyViews(ttk.Frame):
    """A switcher over the five body views, with a note about what is shown and Save."""

    def __init__(self, master, on_link: Callable[[str], None], on_save: Callable[[], None],
                 on_image_size: Callable[[int, int], None], palette: Palette = LIGHT):
        super().__init__(master)
        self.on_link = on_link
        self.on_link_menu: Callable[[str, object], None] | None = None
        """A right click on a link (the Web tab offers the hand-offs)."""
        self.on_image_size = on_image_size
        bar = ttk.Frame(self)
        bar.pack(side="top", fill="x", pady=(0, 4))
        self.save_button = ttk.Button(bar, text="Save body…", command=on_save, state="disabled")
        self.save_button.pack(side="right")
        self.note = ttk.Label(bar, text="", style="Muted.TLabel", anchor="w", wraplength=420)
        self.note.pack(side="left", fill="x", expand=True)
        self.book = ttk.Notebook(self)
        self.book.pack(side="top", fill="both", expand=True)
        self.frames = {name: ttk.Frame(self.book, padding=2) for name in VIEWS}
        for name in VIEWS:
            self.book.add(self.frames[name], text=name)
        mono = monospace(self)
        self.text = scrolled_text(self.frames["Text"], font=mono)
        self.html = scrolled_text(self.frames["HTML"], font="TkDefaultFont")
        self.hex = scrolled_text(self.frames["Hex"], wrap="none", font=mono)
        self._build_json(self.frames["JSON"])
        self.image_label = ttk.Label(self.frames["Image"], anchor="center")
        self.image_label.pack(fill="both", expand=True)
        self.image_label.bind("<Configure>", self._on_image_resize)
        self.image_info = ttk.Label(self.frames["Image"], text="", style="Muted.TLabel", anchor="center")
        self.image_info.pack(fill="x")
        self.photo = None
        self._link_urls: dict[str, str] = {}
        self._resize_job = None
        self._last_size = (0, 0)
        self.set_palette(palette)

    def _build_json(self, frame) -> None:
        self.json_tree = ttk.Treeview(frame, columns=("value",), show="tree headings", selectmode="browse")
        self.json_tree.heading("#0", text="Key", anchor="w")
        self.json_tree.heading("value", text="Value", anchor="w")
        self.json_tree.column("#0", width=220, stretch=False)
        self.json_tree.column("value", width=320, stretch=True)
        scroll = ttk.Scrollbar(frame, orient="vertical", command=self.json_tree.yview)
        self.json_tree.configure(yscrollcommand=scroll.set)
        self.json_message = ttk.Label(frame, text="", style="Muted.TLabel")
        self.json_message.pack(side="bottom", fill="x")
        scroll.pack(side="right", fill="y")
        self.json_tree.pack(side="left", fill="both", expand=True)
        self.json_tree.bind("<<TreeviewOpen>>", self._on_json_open)
        self._json_values: dict[str, object] = {}

    def set_palette(self, palette: Palette) -> None:
        for widget in (self.text, self.html, self.hex):
            style_text(widget, palette)
        self.html.tag_configure("link", foreground=palette.accent, underline=True)
        self.html.tag_configure("heading", foreground=palette.muted, font="TkHeadingFont")
        self.html.tag_bind("link", "<Enter>", lambda e: self.html.configure(cursor="hand2"))
        self.html.tag_bind("link", "<Leave>", lambda e: self.html.configure(cursor=""))

    # -- switching ------------------------------------------------------------------------
    def select(self, mode: str) -> None:
        self.book.select(self.frames[mode])

    @property
    def mode(self) -> str:
        """The view on show: Text, HTML, JSON, Image or Hex."""
        return self.book.tab(self.book.select(), "text")

    # -- filling ----------------------------------------------------------------------------
    def clear(self) -> None:
        for widget in (self.text, self.html, self.hex):
            _set_text(widget, "")
        self.json_tree.delete(*self.json_tree.get_children())
        self._json_values.clear()
        self.json_message.configure(text="")
        self.set_image(None, "")
        self.note.configure(text="")
        self.save_button.state(["disabled"])

    def show(self, response, rendered, note: str = "") -> None:
        """Fill every view from a response and its rendered body; pick the best view."""
        self.clear()
        notes = [note] if note else []
        if response.stopped_early or (response.content_length or 0) > len(response.body) \
                and not response.body_complete:
            shown, total = len(response.body), response.content_length
            shown_text, total_text = human_bytes(shown), human_bytes(total) if total else "more"
            if total and total_text == shown_text:  # "4.0 MiB of 4.0 MiB" says nothing
                shown_text, total_text = f"{shown:,} bytes", f"{total:,} bytes"
            notes.append(f"Showing the first {shown_text} of "
                         f"{total_text}; use Save body… for all of it.")
        if rendered.text_cut:
            notes.append("The Text view shows the first 512 KiB of characters.")
        if rendered.lines_broken:
            notes.append("Very long lines are broken for display.")
        if rendered.charset:
            notes.append(f"Charset: {rendered.charset}.")
        self.note.configure(text=" ".join(notes))
        _set_text(self.text, rendered.text)
        self._fill_html(rendered)
        self._fill_json(rendered)
        dump = rendered.hex
        if len(response.body) > HEX_LIMIT:
            dump += f"\n… (the Hex view shows the first {human_bytes(HEX_LIMIT)})"
        _set_text(self.hex, dump)
        self.image_info.configure(text="" if rendered.image else "The body is not an image "
                                  "(PNG, JPEG, GIF, WebP or BMP).")
        self.save_button.state(["!disabled"] if response.method != "HEAD" else ["disabled"])
        self.select({"text": "Text", "html": "HTML", "json": "JSON", "image": "Image",
                     "hex": "Hex"}[rendered.kind])

    def _fill_html(self, rendered) -> None:
        widget = self.html
        widget.configure(state="normal")
        widget.delete("1.0", "end")
        self._link_urls.clear()
        if not rendered.html_segments:
            widget.insert("end", "The body is not HTML.")
        if rendered.title:
            widget.insert("end", rendered.title + "\n\n", ("heading",))
        for number, (text, href) in enumerate(rendered.html_segments):
            if href:
                tag = f"link{number}"
                self._link_urls[tag] = href
                widget.insert("end", text, ("link", tag))
                self._bind_link(widget, tag, href)
            else:
                widget.insert("end", text)
        if rendered.links:
            widget.insert("end", "\n\nLinks\n", ("heading",))
            for number, (text, href) in enumerate(rendered.links):
                tag = f"list{number}"
                self._link_urls[tag] = href
                widget.insert("end", f"{number + 1}. {text} — ")
                widget.insert("end", href, ("link", tag))
                widget.insert("end", "\n")
                self._bind_link(widget, tag, href)
        widget.configure(state="disabled")

    def _bind_link(self, widget, tag: str, href: str) -> None:
        widget.tag_bind(tag, "<Button-1>", lambda e, url=href: self.on_link(url))
        widget.tag_bind(tag, "<Button-3>", lambda e, url=href: self.on_link_menu and self.on_link_menu(url, e))

    def link_urls(self) -> list[str]:
        return list(self._link_urls.values())

    def click_link(self, url: str, button: int = 1) -> None:
        """Click the first link to ``url`` as a user would (the HTML view must be shown)."""
        tag = next(tag for tag, href in self._link_urls.items() if href == url)
        start = self.html.tag_ranges(tag)[0]
        self.html.see(start)
        self.html.update_idletasks()
        x, y, _, height = self.html.bbox(start)
        x, y = x + 1, y + height // 2
        # Tag bindings follow the "current" mark, which pointer motion moves.
        self.html.event_generate("<Enter>", x=x, y=y)
        self.html.event_generate("<Motion>", x=x, y=y)
        self.html.event_generate(f"<ButtonPress-{button}>", x=x, y=y)
        self.html.event_generate(f"<ButtonRelease-{button}>", x=x, y=y)

    # -- JSON tree ------------------------------------------------------------------------------
    def _fill_json(self, rendered) -> None:
        if rendered.json_value is None and rendered.kind != "json":
            self.json_message.configure(text=rendered.json_error or "The body is not JSON.")
            return
        self._json_insert("", "(root)", rendered.json_value, open_=True)

    def _json_insert(self, parent: str, key: str, value, open_: bool = False) -> str:
        if isinstance(value, dict):
            shown = f"{{…}} {len(value)} key{'s' if len(value) != 1 else ''}"
        elif isinstance(value, list):
            shown = f"[…] {len(value)} item{'s' if len(value) != 1 else ''}"
        elif isinstance(value, str):
            shown = '"' + value[:500] + ('…"' if len(value) > 500 else '"')
        elif value is None:
            shown = "null"
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        else:
            shown = str(value)
        iid = self.json_tree.insert(parent, "end", text=key, values=(shown,), open=open_)
        if isinstance(value, (dict, list)) and value:
            self._json_values[iid] = value
            if open_:
                self._json_children(iid)
            else:
                self.json_tree.insert(iid, "end", text="…", values=("",))  # makes it openable
        return iid

    def _json_children(self, iid: str, start: int = 0) -> None:
        value = self._json_values.pop(iid, None)
        if value is None:
            return
        self.json_tree.delete(*self.json_tree.get_children(iid))
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for key, child in items[:JSON_PAGE]:
            self._json_insert(iid, str(key) if isinstance(value, dict) else f"[{key}]", child)
        if len(items) > JSON_PAGE:
            self.json_tree.insert(iid, "end", text=f"… {len(items) - JSON_PAGE} more not shown",
                                  values=("",))

    def _on_json_open(self, event=None) -> None:
        iid = self.json_tree.focus()
        if iid in self._json_values:
            self._json_children(iid)

    def open_json(self, iid: str) -> None:
        self.json_tree.item(iid, open=True)
        self._json_children(iid)

    # -- image --------------------------------------------------------------------------------
    def set_image(self, photo, info: str) -> None:
        self.photo = photo
        self.image_label.configure(image=photo if photo is not None else "")
        self.image_info.configure(text=info)

    def image_box(self) -> tuple[int, int]:
        width, height = self.image_label.winfo_width(), self.image_label.winfo_height()
        return (width if width > 20 else 600, height if height > 20 else 400)

    def _on_image_resize(self, event) -> None:
        size = (event.width, event.height)
        if abs(size[0] - self._last_size[0]) < 8 and abs(size[1] - self._last_size[1]) < 8:
            return
        self._last_size = size
        if self._resize_job is not None:
            self.after_cancel(self._resize_job)
        self._resize_job = self.after(250, lambda: (setattr(self, "_resize_job", None),
                                                    self.on_image_size(*size)))


class ResponseSummary(ttk.Frame):
    """The status line and one line of facts above the response notebook."""

    def __init__(self, master):
        super().__init__(master)
        self.status = ttk.Label(self, text="No response yet", font=("TkHeadingFont", 13, "bold"))
        self.status.pack(side="top", anchor="w")
        self.facts = ttk.Label(self, text="Enter a URL and press Send.", style="Muted.TLabel",
                               anchor="w")
        self.facts.pack(side="top", fill="x")
        self.warning = ttk.Label(self, text="", style="Error.TLabel", anchor="w")
        self.warning.pack(side="top", fill="x")

    def show(self, response, palette: Palette) -> None:
        code = response.status
        colour = palette.ok if code < 300 else palette.accent if code < 400 else palette.error
        self.status.configure(text=f"{code} {response.reason}".strip(), foreground=colour)
        size = human_bytes(response.body_size)
        if response.stopped_early:
            size = f"{human_bytes(response.content_length)}" if response.content_length else "large body"
        facts = [response.http_version, size, f"{response.timing.total * 1000:.0f} ms",
                 response.remote_address or "?"]
        if response.tls is not None:
            facts.append(response.tls.version + ("" if response.tls.verified else " (not verified)"))
        if response.redirects:
            facts.append(f"{len(response.redirects)} redirect{'s' if len(response.redirects) > 1 else ''}")
        self.facts.configure(text=" · ".join(facts))
        self.warning.configure(text="TLS certificate NOT verified for this request"
                               if response.tls is not None and not response.tls.verified else "")

    def show_failure(self, message: str, palette: Palette) -> None:
        self.status.configure(text="No response", foreground=palette.error)
        self.facts.configure(text=message)
        self.warning.configure(text="")


def _how_chosen(response) -> str:
    """How the HTTP version came about: ALPN over TLS, prior knowledge (h2c), or plain."""
    if response.tls is not None:
        alpn = getattr(response.tls, "alpn", None)
        return f" (ALPN: {alpn})" if alpn else " (the server offered no ALPN protocol)"
    if response.http_version == "HTTP/2":
        return " (cleartext, prior knowledge: h2c)"
    return ""


def describe_details(response) -> str:
    """The Details view: timing breakdown, redirect chain, addresses, TLS."""
    t = response.timing
    phases = [("Resolve", t.resolve), ("Connect", t.connect), ("TLS", t.tls),
              ("First byte", t.first_byte)]
    body_time = max(0.0, t.total - sum(v for _, v in phases))
    phases.append(("Body", body_time))
    longest = max([v for _, v in phases] + [1e-9])
    lines = [f"{response.method} {response.url}", f"{response.status_line}", "", "Timing"
             + (" (reused keep-alive connection)" if t.reused else "")]
    for name, value in phases:
        bar = "█" * max(1 if value > 0 else 0, round(30 * value / longest))
        lines.append(f"  {name:<11}{value * 1000:9.1f} ms  {bar}")
    lines.append(f"  {'Total':<11}{t.total * 1000:9.1f} ms")
    lines += ["", f"Remote address  {response.remote_address or '?'}"
              + (f" (proxy {response.via_proxy})" if response.via_proxy else "")]
    lines.append(f"Protocol        {response.http_version}{_how_chosen(response)}")
    if response.frames:
        lines.append(f"Frames          {response.frames.split(': ', 1)[-1]}")
    lines.append(f"Body            {human_bytes(response.body_size)} decoded, "
                 f"{human_bytes(response.received)} received"
                 + (f", Content-Length {response.content_length}" if response.content_length is not None
                    else ""))
    if response.saved_path:
        lines.append(f"Saved to        {response.saved_path}")
    if response.redirects:
        lines += ["", "Redirect chain"]
        for number, hop in enumerate(response.redirects, 1):
            lines.append(f"  {number}. {hop.method} {hop.url} → {hop.status} {hop.reason}")
        lines.append(f"  {len(response.redirects) + 1}. {response.method} {response.url} → "
                     f"{response.status} {response.reason}")
    tls = response.tls
    if tls is not None:
        lines += ["", "TLS", f"  Version     {tls.version}", f"  Cipher      {tls.cipher}",
                  f"  Subject     {tls.subject}",
                  f"  Names       {', '.join(tls.names) if tls.names else '(none)'}",
                  f"  Issuer      {tls.issuer}",
                  f"  Valid from  {tls.not_before}", f"  Expires     {tls.not_after}",
                  f"  Verified    {'yes' if tls.verified else 'NO (you chose to continue without verifying)'}"]
    return "\n".join(lines)
