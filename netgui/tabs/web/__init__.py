"""The Web tab: an HTTP workbench that fetches, inspects, previews and saves.

Left: the request (a Form for URL, method, auth and options; tables for query parameters,
headers and the body; history and saved requests). Right: the response (status, facts,
body views, headers, details with timing and TLS, cookies, the wire transcript).
All network work runs in the task runner through ``netgui.net.http.session``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import tkinter as tk
from tkinter import filedialog, ttk

from netgui.fmt import human_bytes
from netgui.net.errors import CertificateError, NetError
from netgui.net.http.body import save_bytes
from netgui.net.http.content import render, suggested_filename
from netgui.net.http.request import (
    METHODS,
    BadRequest,
    Request,
    check_url,
    request_from_dict,
    request_to_dict,
    sensitive_headers,
    split_query,
    to_curl,
    with_query,
)
from netgui.net.http.session import HttpSession, Response, export_cookies, import_cookies
from netgui.net.http.websocket import check_url as check_websocket_url
from netgui.net.http.websocket import is_websocket_url
from netgui.tabs import handoff
from netgui.tabs.base import Tab
from netgui.ui.actions import ActionSlot
from netgui.ui.form import Field, Form
from netgui.ui.progress import ProgressRow
from netgui.ui.theme import monospace, style_text
from netgui.ui.transcript import TranscriptPane

from .checks_view import ChecksView
from .collection_panel import CollectionPanel
from .views import BodyViews, ResponseSummary, describe_details, scrolled_text
from .websocket import WebSocketView
from .widgets import KeyValueTable

HISTORY_KEY = "web.history"
SIDEBAR_KEY = "web.sidebar"
HISTORY_SIZE = 50
PROFILE_KIND = "web"
RAW_TYPES = ("application/json", "text/plain; charset=utf-8", "application/xml",
             "application/x-www-form-urlencoded", "text/html; charset=utf-8")
BODY_KINDS = (("none", "None"), ("form", "Form (urlencoded)"), ("multipart", "Multipart"),
              ("raw", "Raw text / JSON"))
HTTP_VERSION_LABELS = {"auto": "Auto", "1.1": "HTTP/1.1", "2": "HTTP/2"}


# -- worker functions (run in the task runner's threads) -------------------------------------

def fetch(ctx, session: HttpSession, request: Request, save_to: str | None):
    """Send ``request``; returns (response, rendered body). Partial responses ride on errors."""
    try:
        response = session.send(request, token=ctx.token, log=ctx.log, progress=ctx.progress,
                                status=ctx.status, save_to=save_to)
    except NetError as err:
        partial = getattr(err, "response", None)
        if partial is not None:
            err.rendered = render(partial.body, partial.content_type, partial.charset, partial.url,
                                  complete=False)
        raise
    rendered = render(response.body, response.content_type, response.charset, response.url,
                      complete=response.body_complete)
    ctx.status(f"{response.status} {response.reason} from {response.url}")
    return response, rendered


def save_memory_body(ctx, data: bytes, path: str):
    return save_bytes(data, path)


def decode_image(ctx, data: bytes, box: tuple[int, int]):
    """Decode an image body and scale it to fit ``box``; returns (PIL image, description)."""
    from PIL import Image
    with Image.open(io.BytesIO(data)) as img:
        description = f"{img.format} {img.width}×{img.height}"
        img.load()
        frame = img.convert("RGBA")
    if frame.width > box[0] or frame.height > box[1]:
        frame.thumbnail(box)
        description += f", scaled to {frame.width}×{frame.height}"
    return frame, description


def _url_problem(value: str) -> str | None:
    if "{{" in value:
        return None  # {{variables}} are checked when they are filled in
    try:
        if is_websocket_url(value):
            check_websocket_url(value)
        else:
            check_url(value)
    except NetError as exc:
        return str(exc)
    return None


class WebTab(Tab):
    title = "Web"
    key = "web"

    def __init__(self, master, app):
        super().__init__(master, app)
        self.session = HttpSession()
        self.task = None
        self.last_request: Request | None = None
        self.last_response: Response | None = None
        self.last_error: NetError | None = None
        self.image_data: bytes | None = None
        self._syncing = False
        self._requests = 0

        paned = ttk.PanedWindow(self, orient="horizontal")
        paned.pack(fill="both", expand=True)
        self.paned = paned
        self.sidebar = ttk.Notebook(paned)  # the collection, history and saved requests
        left = ttk.Frame(paned, padding=(8, 0, 8, 0))
        right = ttk.Frame(paned, padding=(8, 0, 0, 0))
        paned.add(self.sidebar, weight=1)
        paned.add(left, weight=2)
        paned.add(right, weight=3)
        self.ws_view: WebSocketView | None = None
        self._build_request_side(left)
        self._build_response_side(right)
        self.collections = CollectionPanel(self.sidebar, self)
        self.sidebar.insert(0, self.collections, text="Collection", padding=4)
        self.sidebar.select(0)
        self.sidebar_button = self.form.add_button("Collection ▸", self.show_sidebar)
        self.sidebar_button.pack_forget()  # shown while the sidebar is hidden
        if not self.app.settings.get(SIDEBAR_KEY, self.winfo_screenwidth() >= 1024):
            self.hide_sidebar(remember=False)  # a small screen, or the user's choice
        self._sashes_placed = False
        self.bind("<Map>", self._place_sashes, add="+")
        self._url_changed()

    # -- building: request ------------------------------------------------------------------
    def _build_request_side(self, parent) -> None:
        self.form = Form(parent, [
            Field("method", "Method", kind="choice", choices=METHODS, default="GET", width=10),
            Field("url", "URL", required=True, validator=_url_problem, width=28,
                  default="https://example.com/"),
            Field("username", "Basic auth user", width=24),
            Field("password", "Password", kind="password", width=24),
            Field("follow", "Follow redirects (up to 20)", kind="check", default=True),
            Field("verify", "Verify TLS certificates", kind="check", default=True),
            Field("timeout", "Timeout (s)", kind="int", default=30, minimum=1, maximum=3600),
            Field("http_version", "HTTP version", kind="choice", width=10, default="Auto",
                  choices=tuple(HTTP_VERSION_LABELS.values())),
            Field("proxy", "Proxy", width=24,
                  validator=lambda v: None if not v or v.lower() == "none" or v.startswith(
                      "http://") else "Use http://host:port, none, or leave blank"),
            Field("save_to", "Save body to", kind="savefile", remember=False),
        ], on_submit=self.send, submit_text="Send", settings=self.app.settings,
            secrets=self.app.secrets, store_key="web.request")
        self.form.pack(side="top", fill="x")
        self.cancel_button = self.form.add_button("Cancel", self.cancel, enabled=False)
        self.curl_button = self.form.add_button("Copy as curl", self.copy_curl)
        self.insecure_button = ttk.Button(self.form.buttons, text="Continue without verifying",
                                          command=self.continue_without_verifying)
        self.form.variables["url"].trace_add("write", lambda *a: self._url_changed())

        self.request_book = ttk.Notebook(parent)
        self.request_book.pack(side="top", fill="both", expand=True, pady=(8, 0))
        self.params = KeyValueTable(self.request_book, on_change=self._params_changed)
        self.headers = KeyValueTable(self.request_book)
        self.request_book.add(self.params, text="Params", padding=4)
        self.request_book.add(self.headers, text="Headers", padding=4)
        self.request_book.add(self._build_body_editor(self.request_book), text="Body", padding=4)
        self.checks_view = ChecksView(self.request_book, self.app.theme, on_title=lambda text: (
            self.request_book.tab(self.checks_view, text=text)))
        self.request_book.add(self.checks_view, text="Checks", padding=4)
        self.sidebar.add(self._build_history(self.sidebar), text="History", padding=4)
        self.sidebar.add(self._build_saved(self.sidebar), text="Saved", padding=4)
        self._url_changed()

    def _build_body_editor(self, parent) -> ttk.Frame:
        frame = ttk.Frame(parent)
        kinds = ttk.Frame(frame)
        kinds.pack(side="top", fill="x")
        self.body_kind = tk.StringVar(self, value="none")
        for value, label in BODY_KINDS:
            ttk.Radiobutton(kinds, text=label, value=value, variable=self.body_kind,
                            command=self._show_body_kind).pack(side="left", padx=(0, 8))
        self.body_stack = ttk.Frame(frame)
        self.body_stack.pack(side="top", fill="both", expand=True, pady=(4, 0))
        self.body_none = ttk.Label(self.body_stack, text="No request body.", style="Muted.TLabel")
        self.body_fields = KeyValueTable(self.body_stack, files=True, height=4)
        self.body_fields_hint = ttk.Label(self.body_stack, style="Muted.TLabel",
                                          text="Multipart: a value @/path/to/file uploads that file "
                                               "(“Add file…” picks one); others are text fields.")
        raw = ttk.Frame(self.body_stack)
        row = ttk.Frame(raw)
        row.pack(side="top", fill="x")
        ttk.Label(row, text="Content-Type:").pack(side="left")
        self.raw_type = tk.StringVar(self, value=RAW_TYPES[0])
        ttk.Combobox(row, textvariable=self.raw_type, values=RAW_TYPES, width=34).pack(
            side="left", padx=(6, 0))
        self.raw_text = tk.Text(raw, height=6, width=40, wrap="word", undo=True, font=monospace(self),
                                padx=4, pady=4)
        style_text(self.raw_text, self.app.theme)
        self.raw_text.pack(side="top", fill="both", expand=True, pady=(4, 0))
        self.body_raw = raw
        self._show_body_kind()
        return frame

    def _show_body_kind(self) -> None:
        for widget in (self.body_none, self.body_fields, self.body_fields_hint, self.body_raw):
            widget.pack_forget()
        kind = self.body_kind.get()
        if kind == "none":
            self.body_none.pack(anchor="w")
        elif kind in ("form", "multipart"):
            self.body_fields.pack(fill="both", expand=True)
            if kind == "multipart":
                self.body_fields_hint.pack(fill="x")
        else:
            self.body_raw.pack(fill="both", expand=True)

    def _build_history(self, parent) -> ttk.Frame:
        frame = ttk.Frame(parent)
        self.history = ttk.Treeview(frame, columns=("when", "method", "url", "status"),
                                    show="headings", height=5, selectmode="browse")
        for column, text, width in (("when", "Time", 64), ("method", "Method", 56),
                                    ("url", "URL", 160), ("status", "Status", 44)):
            self.history.heading(column, text=text, anchor="w")
            self.history.column(column, width=width, stretch=column == "url")
        self.history.pack(side="top", fill="both", expand=True)
        self.history.bind("<Double-1>", lambda e: self.reopen_history())
        buttons = ttk.Frame(frame)
        buttons.pack(side="top", fill="x", pady=(4, 0))
        ttk.Button(buttons, text="Open", command=self.reopen_history).pack(side="left")
        ttk.Button(buttons, text="Clear history", command=self.clear_history).pack(side="left", padx=4)
        self._refresh_history()
        return frame

    def _build_saved(self, parent) -> ttk.Frame:
        frame = ttk.Frame(parent)
        self.saved = ttk.Treeview(frame, columns=("method", "url"), show="tree headings", height=5,
                                  selectmode="browse")
        self.saved.heading("#0", text="Name", anchor="w")
        self.saved.heading("method", text="Method", anchor="w")
        self.saved.heading("url", text="URL", anchor="w")
        self.saved.column("#0", width=90, stretch=False)
        self.saved.column("method", width=56, stretch=False)
        self.saved.pack(side="top", fill="both", expand=True)
        self.saved.bind("<Double-1>", lambda e: self.open_saved())
        row = ttk.Frame(frame)
        row.pack(side="top", fill="x", pady=(4, 0))
        self.save_name = tk.StringVar(self)
        ttk.Entry(row, textvariable=self.save_name, width=12).pack(side="left", fill="x", expand=True)
        ttk.Button(row, text="Save current", command=self.save_current).pack(side="left", padx=(4, 0))
        row = ttk.Frame(frame)
        row.pack(side="top", fill="x", pady=(4, 0))
        ttk.Button(row, text="Open", command=self.open_saved).pack(side="left")
        ttk.Button(row, text="Delete", command=self.delete_saved).pack(side="left", padx=4)
        self.save_cookies = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(frame, text="Save the cookie jar with it",
                        variable=self.save_cookies).pack(side="top", anchor="w", pady=(4, 0))
        ttk.Label(frame, text="(the cookies are kept in the keyring)", style="Muted.TLabel").pack(
            side="top", anchor="w")
        self._refresh_saved()
        return frame

    # -- building: response -----------------------------------------------------------------
    def _build_response_side(self, parent) -> None:
        self.summary = ResponseSummary(parent)
        self.summary.pack(side="top", fill="x")
        self.summary_action = ActionSlot(self.summary, self.summary.facts, side="top", anchor="w",
                                         padx=0, pady=(2, 0), before=self.summary.warning)
        self.progress = ProgressRow(parent, "Body")
        self.response_book = ttk.Notebook(parent)
        self.response_book.pack(side="top", fill="both", expand=True, pady=(6, 0))
        self.body_views = BodyViews(self.response_book, on_link=self.follow_link,
                                    on_save=self.save_body_dialog, on_image_size=self._image_resized,
                                    palette=self.app.theme)
        self.body_views.on_link_menu = self._link_menu
        # beside Save body…: the body to a new mail, the head as text to a mail or a chat
        self.send_menu = tk.Menu(self, tearoff=False, postcommand=self._fill_send_menu)
        self.send_button = ttk.Menubutton(self.body_views.save_button.master, text="Send to",
                                          menu=self.send_menu)
        self.send_button.pack(side="right", padx=(0, 4), before=self.body_views.save_button)
        self.send_button.state(["disabled"])
        self.response_book.add(self.body_views, text="Body", padding=4)
        headers = ttk.Frame(self.response_book)
        self.response_headers = ttk.Treeview(headers, columns=("name", "value"), show="headings",
                                             selectmode="browse")
        self.response_headers.heading("name", text="Name", anchor="w")
        self.response_headers.heading("value", text="Value", anchor="w")
        self.response_headers.column("name", width=180, stretch=False)
        scroll = ttk.Scrollbar(headers, orient="vertical", command=self.response_headers.yview)
        self.response_headers.configure(yscrollcommand=scroll.set)
        scroll.pack(side="right", fill="y")
        self.response_headers.pack(side="left", fill="both", expand=True)
        self.response_book.add(headers, text="Headers", padding=4)
        details = ttk.Frame(self.response_book)
        self.details = scrolled_text(details, wrap="none", font=monospace(self))
        style_text(self.details, self.app.theme)
        self.response_book.add(details, text="Details", padding=4)
        self.response_book.add(self._build_cookies(self.response_book), text="Cookies", padding=4)
        self.transcript = TranscriptPane(self.response_book, palette=self.app.theme)
        self.response_book.add(self.transcript, text="Transcript", padding=4)
        self.ws_view = WebSocketView(self.response_book, self.app, self.transcript,
                                     on_state=self._websocket_state, palette=self.app.theme)
        self.response_book.add(self.ws_view, text="WebSocket", padding=4)
        self.response_book.hide(self.ws_view)
        self._ws_mode = False

    def _build_cookies(self, parent) -> ttk.Frame:
        frame = ttk.Frame(parent)
        self.cookies = ttk.Treeview(frame, columns=("name", "value", "domain", "path", "expires"),
                                    show="headings", selectmode="browse")
        for column, width in (("name", 110), ("value", 160), ("domain", 130), ("path", 60),
                              ("expires", 140)):
            self.cookies.heading(column, text=column.capitalize(), anchor="w")
            self.cookies.column(column, width=width, stretch=column == "value")
        self.cookies.pack(side="top", fill="both", expand=True)
        row = ttk.Frame(frame)
        row.pack(side="top", fill="x", pady=(4, 0))
        ttk.Button(row, text="Clear cookies", command=self.clear_cookies).pack(side="left")
        ttk.Label(row, text="Cookies last for this session, unless saved with a request.",
                  style="Muted.TLabel").pack(side="left", padx=8)
        return frame

    # -- the request ----------------------------------------------------------------------------
    def build_request(self, values: dict | None = None) -> Request:
        values = values or self.form.values()
        proxy = values["proxy"].strip()
        kind = self.body_kind.get()
        fields = self.body_fields.rows()
        # Multipart rows whose value is "@path" upload that file (as in curl -F name=@path).
        files = [(n, v[1:]) for n, v in fields if kind == "multipart" and v.startswith("@")]
        form = [(n, v) for n, v in fields if not (kind == "multipart" and v.startswith("@"))]
        return Request(
            url=values["url"], method=values["method"] or "GET",
            headers=[(n, v) for n, v in self.headers.rows() if n],
            body_kind=kind, form=form, files=files,
            raw=self.raw_text.get("1.0", "end-1c"), content_type=self.raw_type.get().strip(),
            username=values["username"], password=values["password"] if values["username"] else "",
            follow_redirects=values["follow"], verify=values["verify"],
            timeout=float(values["timeout"] or 30),
            proxy=None if not proxy else "" if proxy.lower() == "none" else proxy,
            http_version=next((k for k, v in HTTP_VERSION_LABELS.items()
                               if v == values.get("http_version")), "auto"))

    def load_request(self, request: Request, password: str | None = None) -> None:
        """Fill the form and tables from a request (history, saved requests)."""
        self.form.set_values({
            "method": request.method, "url": request.url, "username": request.username,
            "password": password or "", "follow": request.follow_redirects,
            "verify": request.verify, "timeout": int(request.timeout),
            "proxy": "none" if request.proxy == "" else request.proxy or "", "save_to": "",
            "http_version": HTTP_VERSION_LABELS.get(request.http_version, "Auto")})
        if request.params:
            self.form.set("url", with_query(request.url, split_query(request.url)[1] + request.params))
        self.headers.set_rows(request.headers)
        self.body_kind.set(request.body_kind)
        self.body_fields.set_rows(list(request.form) + [(n, "@" + p) for n, p in request.files])
        self.raw_text.delete("1.0", "end")
        self.raw_text.insert("1.0", request.raw)
        self.raw_type.set(request.content_type)
        self._show_body_kind()

    def _url_changed(self) -> None:
        websocket = is_websocket_url(self.form.variables["url"].get())
        self.form.submit_button.configure(text="Connect" if websocket else "Send")
        if self.ws_view is not None:  # None while the form is being built
            self._set_websocket_mode(websocket or self.ws_view.running)
        if self._syncing:
            return
        if self.form.variables["url"].get().lstrip().startswith("curl "):
            self.after_idle(self.collections.paste_curl, self.form.variables["url"].get())
            return  # a pasted curl command: it fills the whole form
        self._syncing = True
        try:
            self.params.set_rows(split_query(self.form.variables["url"].get())[1])
        finally:
            self._syncing = False

    def _params_changed(self, rows) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            url = self.form.variables["url"].get()
            self.form.variables["url"].set(with_query(url, rows))
        finally:
            self._syncing = False

    # -- sending ---------------------------------------------------------------------------------
    def send(self, values: dict | None = None) -> None:
        """Form submit: build the request and start it (ws:// and wss:// connect instead)."""
        if is_websocket_url((values or self.form.values())["url"]):
            self.connect_websocket(values)
            return
        try:
            request = self.build_request(values)
            request.full_url()
        except BadRequest as exc:
            self.form.set_status(str(exc), "error")
            return
        save_to = (values or self.form.values()).get("save_to") or None
        self.start(request, save_to=save_to)

    def start(self, request: Request, save_to: str | None = None) -> None:
        """Send ``request`` (its {{variables}} filled in from the collection's environment)."""
        if self.task is not None and self.task.running:
            return
        try:
            resolved = self.collections.resolve(request)
        except BadRequest as exc:
            self.form.set_status(str(exc), "error")
            return
        self.last_request = request  # as written: history and retries keep the {{variables}}
        shown, request = resolved.shown, resolved.wire
        self.insecure_button.pack_forget()
        self.form.set_busy(True, f"{shown.method} {shown.url}")
        self.cancel_button.state(["!disabled"])
        self.transcript.secrets = resolved.secrets
        self.transcript.append("*", f"{shown.method} {shown.url}"
                               + ("" if request.verify else " (TLS not verified)"))
        self.progress.pack(side="top", fill="x", pady=(4, 0), after=self.summary)
        self.progress.finish("")
        self.checks_view.clear_results("Waiting for the response…" if self.checks_view.lines() else "")
        self._requests += 1
        self.task = self.track(self.app.runner.submit(
            fetch, self.session, request, save_to, name=f"{shown.method} {shown.url}",
            origin=self._origin_for(shown, secrets=(request.password, *resolved.secrets)),
            on_result=self._on_result, on_error=self._on_error, on_done=self._on_done,
            on_progress=self.progress.update_progress, on_log=self.transcript.append,
            on_status=lambda text: self.form.set_status(text)))

    def _origin_for(self, request: Request, secrets=()):
        """The timeline's origin of ``request`` (as shown: variables filled, secrets masked);
        ``secrets`` are the values the timeline must mask."""
        from urllib.parse import urlsplit
        try:
            parts = urlsplit(request.url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            host, port = "", None
        scheme = "https" if request.url.lower().startswith("https:") else "http"
        return self.origin(f"{request.method} {request.url}", scheme, host,
                           port or (443 if scheme == "https" else 80), f"web{self._requests}",
                           secrets=(request.password, *secrets))

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.ws_view.cancel()

    # -- WebSocket -------------------------------------------------------------------------------
    def connect_websocket(self, values: dict | None = None) -> None:
        """Open a WebSocket to the form's ws:// or wss:// URL with the Headers table's headers
        (and basic auth from the form); the WebSocket tab shows the messages."""
        values = values or self.form.values()
        self.transcript.append("*", f"WebSocket {values['url']}")
        task = self.ws_view.connect(values["url"], [(n, v) for n, v in self.headers.rows() if n],
                                    values["verify"], float(values["timeout"] or 30),
                                    values["username"], values["password"])
        if task is not None:
            self.track(task)
            self.response_book.select(self.ws_view)

    def _websocket_state(self, busy: bool) -> None:
        self.form.set_busy(busy, "WebSocket in use (the WebSocket tab)" if busy else None)
        self.cancel_button.state(["!disabled"] if busy else ["disabled"])
        if not busy:
            self.form.set_status(self.ws_view.state_label.cget("text"))
            self._url_changed()

    def _set_websocket_mode(self, on: bool) -> None:
        """A ws:// or wss:// URL shows the WebSocket and Transcript tabs in place of the
        response's Body, Headers, Details and Cookies (and the summary above them)."""
        if on == self._ws_mode:
            return
        self._ws_mode = on
        book = self.response_book
        for tab_id in book.tabs()[:4]:
            book.hide(tab_id) if on else book.add(tab_id)
        if on:
            self.summary.pack_forget()
            book.add(self.ws_view)
            book.select(self.ws_view)
        else:
            book.hide(self.ws_view)
            self.summary.pack(side="top", fill="x", before=book)
            book.select(0)

    def continue_without_verifying(self) -> None:
        """Resend the request that failed on its certificate, this once without verifying."""
        if self.last_request is None:
            return
        request = dataclasses.replace(self.last_request, verify=False)
        self.transcript.append("!", "Continuing WITHOUT verifying the TLS certificate (this request only)")
        self.start(request)

    def _on_result(self, result) -> None:
        response, rendered = result
        self.show_response(response, rendered)
        kind = "ok" if response.status < 400 else "error"
        saved = f" · saved to {response.saved_path}" if response.saved_path else ""
        head = f"{response.status} {response.reason}".strip()  # HTTP/2 has no reason phrase
        self.form.set_status(f"{head} · {human_bytes(response.body_size)}"
                             f" in {response.timing.total * 1000:.0f} ms{saved}", kind)
        self.progress.finish(human_bytes(response.body_size))
        self._add_history(self.last_request, response.status)
        self.collections.check_response(response, rendered)

    def _on_error(self, err: NetError) -> None:
        self.last_error = err
        action = handoff.error_action(self.app, err)
        self.form.set_status(str(err), "error", action=action)
        self.summary_action.offer(action)  # the wide failure line on the response side too
        self.checks_view.clear_results("No response to check." if self.checks_view.lines() else "")
        partial = getattr(err, "response", None)
        if partial is not None:
            self.show_response(partial, err.rendered, note="Incomplete body: " + str(err))
            self.summary.warning.configure(text=str(err))
        else:
            self.summary.show_failure(str(err), self.app.theme)
        if isinstance(err, CertificateError) and self.last_request is not None \
                and self.last_request.verify:
            self.insecure_button.pack(side="left", padx=(6, 0), before=self.form.spinner)
        if self.last_request is not None:
            self._add_history(self.last_request, "error")

    def _on_done(self, task) -> None:
        self.form.set_busy(False)
        self.cancel_button.state(["disabled"])
        self.progress.pack_forget()
        self._refresh_cookies()
        if task.state == "cancelled":
            self.form.set_status("Cancelled", "info")

    # -- showing a response --------------------------------------------------------------------
    def show_response(self, response: Response, rendered, note: str = "") -> None:
        self.last_response = response
        self.summary_action.offer(None)
        self.send_button.state(["!disabled"])
        self.summary.show(response, self.app.theme)
        self.response_headers.delete(*self.response_headers.get_children())
        for name, value in response.headers:
            self.response_headers.insert("", "end", values=(name, value))
        self.details.configure(state="normal")
        self.details.delete("1.0", "end")
        self.details.insert("1.0", describe_details(response))
        self.details.configure(state="disabled")
        self.body_views.show(response, rendered, note=note)
        self.image_data = response.body if rendered.image and response.body_complete else None
        if rendered.image and not response.body_complete:
            self.body_views.set_image(None, "Only part of the image arrived: it cannot be shown.")
        if self.image_data:
            self._decode_image()
        self.response_book.select(self.body_views)

    def _decode_image(self) -> None:
        data = self.image_data
        if not data:
            return
        self.app.runner.submit(decode_image, data, self.body_views.image_box(), name="Decode image",
                               on_result=lambda r, d=data: self._show_image(d, r),
                               on_error=lambda err: self.body_views.set_image(
                                   None, f"The image cannot be shown: {err}"))

    def _show_image(self, data, result) -> None:
        if data is not self.image_data:
            return  # a newer response replaced it meanwhile
        from PIL import ImageTk
        image, description = result
        self.body_views.set_image(ImageTk.PhotoImage(image, master=self), description)

    def _image_resized(self, width: int, height: int) -> None:
        if self.image_data:
            self._decode_image()

    def follow_link(self, url: str) -> None:
        """A link in the HTML view was clicked: GET it (a web link), or hand it to its tab."""
        if not url.lower().startswith(("http:", "https:")):
            handoff.open_link(self.app, url)
            return
        if self.form.busy:
            return
        self.form.set_values({"url": url, "method": "GET", "save_to": ""})
        self.body_kind.set("none")
        self._show_body_kind()
        self.form.submit()

    # -- hand-off -------------------------------------------------------------------------------
    def open_url(self, link) -> None:
        """An http(s):// link from another tab: fetch it here."""
        self.request_book.select(0)
        self.form.set_values({"url": link.url, "method": "GET", "save_to": ""})
        self.body_kind.set("none")
        self._show_body_kind()
        self.form.submit()

    def _link_menu(self, url: str, event) -> None:
        from netgui.ui.links import popup
        link = handoff.as_link(url)
        if link is not None:
            items = handoff.actions(self.app, link)
            if link.kind == "web":
                items[0] = ("Open here", lambda: self.follow_link(url))
            popup(self.body_views.html, items, event)

    def reveal(self, item: str) -> None:
        """A request ("GET https://…"): its newest history entry is selected and loaded."""
        method, _, url = item.partition(" ")
        for index, entry in enumerate(self.app.settings.get(HISTORY_KEY, []) or []):
            req = entry.get("request", {})
            if req.get("method") == method and req.get("url") == url:
                self.request_book.select(3)
                self.history.selection_set(str(index))
                self.history.see(str(index))
                self.reopen_history(index)
                return

    def response_head(self) -> str:
        response = self.last_response
        if response is None:
            return ""
        return "\n".join([response.status_line] + [f"{n}: {v}" for n, v in response.headers]) + "\n"

    def _fill_send_menu(self) -> None:
        menu = self.send_menu
        menu.delete(0, "end")
        if self.last_response is None:
            return
        menu.add_command(label="Attach the body to a new mail", command=self.mail_body)
        title = f"{self.last_response.status_line} from {self.last_response.url}"
        for label, command in handoff.text_destinations(self.app, self.response_head(), title):
            menu.add_command(label=f"Response head → {label}", command=command)

    def mail_body(self) -> None:
        """The body (the saved file if it was saved, else a copy in the data folder), attached to
        a new message."""
        response = self.last_response
        if response is None:
            return
        if response.saved_path:
            handoff.attach_to_mail(self.app, [str(response.saved_path)])
            return
        from netgui.config import data_dir
        folder = data_dir() / "handoff"
        path = str(folder / self.suggested_name())

        def write(ctx, data, target):
            folder.mkdir(parents=True, exist_ok=True)
            return save_bytes(data, target)
        self.track(self.app.runner.submit(
            write, response.body, path, name="Keep the body for a mail",
            on_result=lambda p: handoff.attach_to_mail(self.app, [str(p)]),
            on_error=lambda err: self.form.set_status(str(err), "error")))

    # -- saving the body -------------------------------------------------------------------------
    def suggested_name(self) -> str:
        response = self.last_response
        if response is None:
            return "download"
        return suggested_filename(response.url, response.header("Content-Disposition"),
                                  response.content_type)

    def save_body_dialog(self) -> None:
        path = filedialog.asksaveasfilename(parent=self, title="Save body",
                                            initialfile=self.suggested_name())
        if path:
            self.save_body(path)

    def save_body(self, path: str) -> None:
        """Save the last body: from memory if it is all there, else fetch it again to the file."""
        response = self.last_response
        if response is None:
            return
        if response.body_complete and not response.truncated:
            task = self.app.runner.submit(
                save_memory_body, response.body, path, name="Save body",
                on_result=lambda p: self.form.set_status(f"Saved {human_bytes(len(response.body))} "
                                                         f"to {p}", "ok"),
                on_error=lambda err: self.form.set_status(str(err), "error"))
            self.track(task)
            return
        request = self.last_request
        if request is not None:
            request = dataclasses.replace(request, url=response.url, params=[], verify=(
                request.verify and (response.tls is None or response.tls.verified)))
            self.start(request, save_to=path)

    # -- curl, cookies ------------------------------------------------------------------------------
    def copy_curl(self) -> str:
        """The request as curl would send it: {{variables}} filled in, secrets as ****."""
        try:
            command = to_curl(self.collections.resolve(self.build_request()).shown)
        except BadRequest as exc:
            self.form.set_status(str(exc), "error")
            return ""
        self.clipboard_clear()
        self.clipboard_append(command)
        self.form.set_status("Copied the curl command (curl will ask for any password)", "ok")
        return command

    def _refresh_cookies(self) -> None:
        self.cookies.delete(*self.cookies.get_children())
        for cookie in self.session.cookie_list():
            expires = time.strftime("%Y-%m-%d %H:%M", time.localtime(cookie.expires)) \
                if cookie.expires else "session"
            self.cookies.insert("", "end", values=(cookie.name, cookie.value or "", cookie.domain,
                                                   cookie.path, expires))

    def clear_cookies(self) -> None:
        self.session.clear_cookies()
        self._refresh_cookies()

    # -- history and saved requests -------------------------------------------------------------------
    def _add_history(self, request: Request | None, status) -> None:
        if request is None:
            return
        entries = self.app.settings.get(HISTORY_KEY, []) or []
        entries.insert(0, {"when": time.strftime("%H:%M:%S"), "status": status,
                           "request": request_to_dict(request)})
        self.app.settings.set(HISTORY_KEY, entries[:HISTORY_SIZE], save=False)
        self._save_settings()
        self._refresh_history()

    def _save_settings(self) -> None:
        self.app.settings.save()  # the app's Settings write from their own thread

    def _refresh_history(self) -> None:
        self.history.delete(*self.history.get_children())
        for index, entry in enumerate(self.app.settings.get(HISTORY_KEY, []) or []):
            req = entry.get("request", {})
            self.history.insert("", "end", iid=str(index), values=(
                entry.get("when", ""), req.get("method", ""), req.get("url", ""), entry.get("status", "")))

    def reopen_history(self, index: int | None = None) -> None:
        if index is None:
            selected = self.history.selection()
            if not selected:
                return
            index = int(selected[0])
        entries = self.app.settings.get(HISTORY_KEY, []) or []
        if 0 <= index < len(entries):
            self.load_request(request_from_dict(entries[index]["request"]))

    def clear_history(self) -> None:
        self.app.settings.set(HISTORY_KEY, [], save=False)
        self._save_settings()
        self._refresh_history()

    def _secret_account(self, name: str, what: str = "password") -> str:
        return f"{PROFILE_KIND}/{name}/{what}"

    def save_current(self, name: str | None = None) -> None:
        name = (name or self.save_name.get()).strip()
        if not name:
            self.form.set_status("Type a name for the saved request first", "error")
            return
        request = self.build_request()
        self.app.settings.save_profile(PROFILE_KIND, name, request_to_dict(request))
        # Credentials go to the keyring: the password and any Authorization/Cookie header.
        self.app.secrets.set(self._secret_account(name), request.password)
        hidden = sensitive_headers(request)
        self.app.secrets.set(self._secret_account(name, "headers"),
                             json.dumps(hidden) if hidden else "")
        cookies = export_cookies(self.session.cookies) if self.save_cookies.get() else ""
        self.app.secrets.set(self._secret_account(name, "cookies"),
                             cookies if cookies != "[]" else "")
        self.form.set_status(f"Saved the request as “{name}”", "ok")
        self._refresh_saved()

    def _refresh_saved(self) -> None:
        self.saved.delete(*self.saved.get_children())
        for name, data in sorted(self.app.settings.profiles(PROFILE_KIND).items()):
            self.saved.insert("", "end", iid=name, text=name,
                              values=(data.get("method", ""), data.get("url", "")))

    def open_saved(self, name: str | None = None) -> None:
        if name is None:
            selected = self.saved.selection()
            if not selected:
                return
            name = selected[0]
        data = self.app.settings.profile(PROFILE_KIND, name)
        if data is not None:
            request = request_from_dict(data)
            hidden = self.app.secrets.get(self._secret_account(name, "headers"))
            if hidden:
                for index, value in json.loads(hidden).items():
                    if int(index) < len(request.headers):
                        request.headers[int(index)] = (request.headers[int(index)][0], value)
            self.load_request(request, self.app.secrets.get(self._secret_account(name)))
            self.save_name.set(name)
            cookies = self.app.secrets.get(self._secret_account(name, "cookies"))
            self.save_cookies.set(bool(cookies))
            if cookies:
                count = import_cookies(self.session.cookies, cookies)
                self._refresh_cookies()
                self.form.set_status(f"Opened “{name}” with {count} cookie"
                                     f"{'' if count == 1 else 's'}", "ok")

    def delete_saved(self, name: str | None = None) -> None:
        if name is None:
            selected = self.saved.selection()
            if not selected:
                return
            name = selected[0]
        self.app.settings.delete_profile(PROFILE_KIND, name)
        self.app.secrets.delete(self._secret_account(name))
        self.app.secrets.delete(self._secret_account(name, "headers"))
        self.app.secrets.delete(self._secret_account(name, "cookies"))
        self._refresh_saved()

    # -- the sidebar -----------------------------------------------------------------------------------
    def _place_sashes(self, event=None) -> None:
        """The first time the tab shows: the sidebar as wide as its tabs, the rest shared."""
        if self._sashes_placed or event is not None and event.widget is not self:
            return
        self.update_idletasks()
        width = self.paned.winfo_width()
        if width < 100:
            return
        self._sashes_placed = True
        if str(self.sidebar) in self.paned.panes():
            side = min(max(self.sidebar.winfo_reqwidth(), 200), max(270, width // 5))
            self.paned.sashpos(0, side)
            self.paned.sashpos(1, side + (width - side) // 2)

    def hide_sidebar(self, remember: bool = True) -> None:
        if str(self.sidebar) in self.paned.panes():
            self.paned.forget(self.sidebar)
        self.sidebar_button.pack(side="left", padx=(6, 0), before=self.form.spinner)
        if remember:
            self.app.settings.set(SIDEBAR_KEY, False)

    def show_sidebar(self) -> None:
        if str(self.sidebar) not in self.paned.panes():
            self.paned.insert(0, self.sidebar, weight=1)
        self.sidebar_button.pack_forget()
        self.app.settings.set(SIDEBAR_KEY, True)

    # -- the tab's life ----------------------------------------------------------------------------------
    def on_theme_changed(self, palette) -> None:
        self.body_views.set_palette(palette)
        self.transcript.set_palette(palette)
        self.ws_view.set_palette(palette)
        style_text(self.details, palette)
        style_text(self.raw_text, palette)
        self.checks_view.set_palette(palette)

    def destroy(self) -> None:
        self.session.close()
        super().destroy()
