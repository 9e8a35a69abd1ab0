"""The reusable Form: declarative fields laid out on a grid.

Every tab collects its connection or request inputs with a Form::

    form = Form(parent, [
        Field("host", "Server", required=True),
        Field("port", "Port", kind="port", default=50001),
        Field("password", "Password", kind="password"),
    ], on_submit=start, submit_text="Connect", settings=app.settings,
       secrets=app.secrets, store_key="getfile")

Return in any one-line field submits; validation messages appear next to the
field; ``values()`` returns typed values; ``set_busy`` disables the inputs and
shows a spinner with a status line; values are remembered per ``store_key``
(passwords through ``secrets`` only, never in the settings file).
"""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass
from tkinter import filedialog, ttk
from typing import Any, Callable, Sequence

from .actions import ActionSlot
from .spinner import Spinner
from .theme import accent_button_style

KINDS = ("text", "password", "int", "port", "choice", "check", "file", "savefile", "folder", "textarea")


@dataclass
class Field:
    """One input of a Form."""

    name: str
    label: str
    kind: str = "text"
    default: Any = None
    choices: Sequence[str] = ()
    editable: bool = False          # choice: may the user type a value not in the list?
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    validator: Callable[[Any], str | None] | None = None
    width: int = 30
    remember: bool = True
    help: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")
        if self.kind == "port":
            self.minimum = 1 if self.minimum is None else self.minimum
            self.maximum = 65535 if self.maximum is None else self.maximum


class Form(ttk.Frame):
    """A grid of labelled inputs with inline validation, Submit on Return and a busy state."""

    def __init__(self, master, fields: Sequence[Field], on_submit: Callable[[dict], Any] | None = None,
                 submit_text: str = "Submit", settings=None, secrets=None, store_key: str | None = None,
                 **kw):
        super().__init__(master, **kw)
        self.fields = {f.name: f for f in fields}
        self.on_submit = on_submit
        self.settings = settings
        self.secrets = secrets
        self.store_key = store_key
        self.variables: dict[str, tk.Variable] = {}
        self.widgets: dict[str, tk.Widget] = {}
        self.messages: dict[str, ttk.Label] = {}
        self._cells: dict[str, list[tk.Widget]] = {}  # what set_visible hides: label, input, message
        self._busy = False
        self._disabled_while_busy: list[tk.Widget] = []
        self._disabled_fields: set[str] = set()  # kept disabled by the tab, busy or not

        grid = ttk.Frame(self)
        grid.pack(side="top", fill="x")
        grid.columnconfigure(1, weight=1)
        for row, f in enumerate(fields):
            self._build_field(grid, row, f)

        self.buttons = ttk.Frame(self)
        self.buttons.pack(side="top", fill="x", pady=(6, 0))
        self.submit_button = ttk.Button(self.buttons, text=submit_text, command=self.submit,
                                        style=accent_button_style(self))
        self.submit_button.pack(side="left")
        self.spinner = Spinner(self.buttons)
        self.spinner.pack(side="left", padx=(8, 0))
        self.status = ttk.Label(self.buttons, text="", style="Status.TLabel", anchor="w")
        self.status.pack(side="left", fill="x", expand=True)
        self.status_action = ActionSlot(self.buttons, self.status, side="right")
        # No automatic wrapping: setting wraplength from <Configure> feeds back into the
        # layout and can loop forever in narrow panes. A narrow tab sets a wraplength itself.
        self.load_remembered()

    # -- building -------------------------------------------------------------
    def _build_field(self, grid: ttk.Frame, row: int, f: Field) -> None:
        label = ttk.Label(grid, text=f.label + ("" if f.kind == "check" else ":"))
        if f.kind != "check":
            label.grid(row=row, column=0, sticky="ne" if f.kind == "textarea" else "e",
                       padx=(0, 6), pady=2)
        if f.kind == "check":
            var = tk.BooleanVar(self, value=bool(f.default))
            widget = ttk.Checkbutton(grid, text=f.label, variable=var)
            widget.grid(row=row, column=1, sticky="w", pady=2)
        elif f.kind == "textarea":
            var = None
            widget = tk.Text(grid, width=f.width, height=5, wrap="word", undo=True,
                             relief="flat", borderwidth=4, highlightthickness=1,
                             highlightbackground="#c4c4c4", highlightcolor="#005fb8")
            if f.default:
                widget.insert("1.0", str(f.default))
            widget.grid(row=row, column=1, sticky="ew", pady=2)
        else:
            var = tk.StringVar(self, value="" if f.default is None else str(f.default))
            parent = grid
            if f.kind in ("file", "savefile", "folder"):
                parent = ttk.Frame(grid)
                parent.grid(row=row, column=1, sticky="ew", pady=2)
                parent.columnconfigure(0, weight=1)
                browse = ttk.Button(parent, text="Browse…", command=lambda f=f: self._browse(f))
                browse.grid(row=0, column=1, padx=(4, 0))
                self._disabled_while_busy.append(browse)
            if f.kind == "choice":
                widget = ttk.Combobox(parent, textvariable=var, values=list(f.choices), width=f.width,
                                      state="normal" if f.editable else "readonly")
                if f.default is None and f.choices:
                    var.set(f.choices[0])
            elif f.kind in ("int", "port"):
                widget = ttk.Spinbox(parent, textvariable=var, width=max(8, min(f.width, 10)),
                                     from_=f.minimum if f.minimum is not None else -(2**31),
                                     to=f.maximum if f.maximum is not None else 2**31, increment=1)
            else:
                widget = ttk.Entry(parent, textvariable=var, width=f.width,
                                   show="•" if f.kind == "password" else "")
            if parent is grid:
                widget.grid(row=row, column=1, sticky="w" if f.kind in ("int", "port") else "ew", pady=2)
            else:
                widget.grid(row=0, column=0, sticky="ew")
            widget.bind("<Return>", self._on_return)
            widget.bind("<KP_Enter>", self._on_return)
            var.trace_add("write", lambda *_, name=f.name: self._clear_message(name))
        if var is not None:
            self.variables[f.name] = var
        self.widgets[f.name] = widget
        self._disabled_while_busy.append(widget)
        message = ttk.Label(grid, text="", style="Error.TLabel")
        message.grid(row=row, column=2, sticky="w", padx=(6, 0))
        self.messages[f.name] = message
        self._cells[f.name] = [w for w in (label, widget if widget.master is grid else widget.master, message)
                               if w.winfo_manager() == "grid"]
        if f.help:
            message.configure(text=f.help, style="Muted.TLabel")

    def _browse(self, f: Field) -> None:
        current = self.variables[f.name].get()
        if f.kind == "folder":
            path = filedialog.askdirectory(parent=self, title=f.label, initialdir=current or None,
                                           mustexist=True)
        elif f.kind == "savefile":
            path = filedialog.asksaveasfilename(parent=self, title=f.label, initialfile=current or None)
        else:
            path = filedialog.askopenfilename(parent=self, title=f.label, initialfile=current or None)
        if path:
            self.variables[f.name].set(path)

    def _on_return(self, event=None) -> str:
        self.submit()
        return "break"

    # -- values -----------------------------------------------------------------
    def raw(self, name: str) -> str | bool:
        f = self.fields[name]
        if f.kind == "textarea":
            return self.widgets[name].get("1.0", "end-1c")
        return self.variables[name].get()

    def values(self) -> dict[str, Any]:
        """Typed values: int for int/port fields (None when blank), bool for checks, str otherwise."""
        out: dict[str, Any] = {}
        for name, f in self.fields.items():
            raw = self.raw(name)
            if f.kind in ("int", "port"):
                try:
                    out[name] = int(str(raw).strip())
                except ValueError:
                    out[name] = None
            elif f.kind == "check":
                out[name] = bool(raw)
            elif f.kind in ("password", "textarea"):
                out[name] = raw
            else:
                out[name] = str(raw).strip()
        return out

    def get(self, name: str) -> Any:
        return self.values()[name]

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            f = self.fields.get(name)
            if f is None or value is None:
                continue
            if f.kind == "textarea":
                self.widgets[name].delete("1.0", "end")
                self.widgets[name].insert("1.0", str(value))
            elif f.kind == "check":
                self.variables[name].set(bool(value))
            else:
                self.variables[name].set(str(value))

    def set(self, name: str, value: Any) -> None:
        self.set_values({name: value})

    # -- validation -------------------------------------------------------------
    def field_error(self, name: str) -> str | None:
        """The message for one field's current value, or None when it is fine."""
        f = self.fields[name]
        raw = self.raw(name)
        if f.kind == "check":
            value = bool(raw)
        else:
            text = str(raw) if f.kind in ("password", "textarea") else str(raw).strip()
            if f.required and not text:
                return "Required"
            value = text
            if f.kind in ("int", "port") and text:
                try:
                    value = int(text)
                except ValueError:
                    return "Enter a whole number"
                if f.minimum is not None and value < f.minimum or f.maximum is not None and value > f.maximum:
                    return f"Must be between {f.minimum} and {f.maximum}"
            elif f.kind == "choice" and text and not f.editable and f.choices and text not in f.choices:
                return "Pick one of the listed values"
        if f.validator is not None:
            try:
                return f.validator(value)
            except Exception as exc:  # a validator bug is shown, not raised
                return str(exc)
        return None

    def validate(self) -> bool:
        """Show a message next to each invalid field; True when all are valid."""
        first_bad = None
        for name in self.fields:
            error = self.field_error(name)
            self._show_message(name, error)
            if error and first_bad is None:
                first_bad = name
        if first_bad is not None:
            self.widgets[first_bad].focus_set()
        return first_bad is None

    def _show_message(self, name: str, error: str | None) -> None:
        label = self.messages[name]
        if error:
            label.configure(text=error, style="Error.TLabel")
        else:
            label.configure(text=self.fields[name].help, style="Muted.TLabel")

    def _clear_message(self, name: str) -> None:
        if str(self.messages[name].cget("style")) == "Error.TLabel":
            self._show_message(name, None)

    def message(self, name: str) -> str:
        """The text shown next to a field (its error, or its help)."""
        return str(self.messages[name].cget("text"))

    # -- submit and busy ----------------------------------------------------------
    def submit(self) -> bool:
        """Validate; if valid, remember the values and call on_submit. Returns validity."""
        if self._busy:
            return False
        if not self.validate():
            self.set_status("Please correct the marked fields.", "error")
            return False
        values = self.values()
        self.remember(values)
        if self.on_submit is not None:
            self.on_submit(values)
        return True

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, busy: bool, status: str | None = None) -> None:
        """Disable the inputs and spin while busy; enable and stop when not."""
        self._busy = busy
        kept_off = {self.widgets[name] for name in self._disabled_fields}
        for widget in self._disabled_while_busy + [self.submit_button]:
            _set_enabled(widget, not busy and widget not in kept_off,
                         readonly=isinstance(widget, ttk.Combobox) and not self._field_for(widget, "editable"))
        if busy:
            self.spinner.start()
        else:
            self.spinner.stop()
        if status is not None:
            self.set_status(status)

    def _field_for(self, widget, attr: str):
        for name, w in self.widgets.items():
            if w is widget:
                return getattr(self.fields[name], attr)
        return None

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable one field (e.g. "verify" only while "TLS" is checked).
        A field disabled here stays disabled when the form leaves its busy state."""
        f = self.fields[name]
        (self._disabled_fields.discard if enabled else self._disabled_fields.add)(name)
        _set_enabled(self.widgets[name], enabled and not self._busy,
                     readonly=f.kind == "choice" and not f.editable)

    def set_visible(self, name: str, visible: bool) -> None:
        """Show or hide one field (e.g. the fields only one protocol uses); a hidden field
        keeps its value and still appears in ``values()``."""
        for widget in self._cells[name]:
            if visible:
                widget.grid()
            else:
                widget.grid_remove()

    def visible(self, name: str) -> bool:
        return bool(self._cells[name][0].winfo_manager())

    def set_status(self, text: str, kind: str = "info", action=None) -> None:
        """Show ``text``; ``action`` (label, command) is offered beside it (Diagnose on an
        error) until the next status."""
        style = {"error": "Error.TLabel", "ok": "Ok.TLabel"}.get(kind, "Status.TLabel")
        self.status.configure(text=text, style=style)
        self.status_action.offer(action)

    def add_button(self, text: str, command: Callable[[], Any], enabled: bool = True) -> ttk.Button:
        """Add a button to the row beside Submit (it stays usable while busy, e.g. Cancel)."""
        button = ttk.Button(self.buttons, text=text, command=command)
        button.pack(side="left", padx=(6, 0), before=self.spinner)
        _set_enabled(button, enabled)
        return button

    # -- remembered values -----------------------------------------------------------
    def _secret_account(self, name: str) -> str:
        return f"form/{self.store_key}/{name}"

    def remember(self, values: dict[str, Any] | None = None) -> None:
        """Store remembered values under store_key (passwords in the keyring only)."""
        if not self.store_key:
            return
        values = self.values() if values is None else values
        plain = {}
        for name, f in self.fields.items():
            if not f.remember:
                continue
            if f.kind == "password":
                if self.secrets is not None:
                    self.secrets.set(self._secret_account(name), values[name])
            else:
                plain[name] = values[name]
        if self.settings is not None:
            self.settings.set_form_values(self.store_key, plain)

    def load_remembered(self, store_key: str | None = None) -> None:
        """Fill the fields from what was remembered under store_key (or the current key)."""
        if store_key is not None:
            self.store_key = store_key
        if not self.store_key:
            return
        values = self.settings.form_values(self.store_key) if self.settings is not None else {}
        if self.secrets is not None:
            for name, f in self.fields.items():
                if f.kind == "password" and f.remember:
                    secret = self.secrets.get(self._secret_account(name))
                    if secret:
                        values[name] = secret
        self.set_values({k: v for k, v in values.items()
                         if k in self.fields and self.fields[k].remember and self._still_offered(k, v)})

    def _still_offered(self, name: str, value: Any) -> bool:
        """A remembered choice that the field no longer offers is dropped, not restored."""
        f = self.fields[name]
        return f.kind != "choice" or f.editable or not f.choices or str(value) in f.choices


def _set_enabled(widget, enabled: bool, readonly: bool = False) -> None:
    if isinstance(widget, tk.Text):
        widget.configure(state="normal" if enabled else "disabled")
        return
    if enabled:
        state = ["!disabled", "readonly"] if readonly else ["!disabled"]
    else:
        state = ["disabled"]
    try:
        widget.state(state)
    except (AttributeError, tk.TclError):
        widget.configure(state="normal" if enabled else "disabled")


def _demo() -> None:
    """``python -m netgui.ui.form``: a small window with one field of each kind."""
    from .theme import apply_theme

    root = tk.Tk()
    root.title("netgui Form demo")
    apply_theme(root, "light")
    frame = ttk.Frame(root, padding=12)
    frame.pack(fill="both", expand=True)
    output = ttk.Label(frame, text="Fill the form and press Return.", wraplength=420)

    def show(values):
        shown = {k: ("****" if form.fields[k].kind == "password" and v else v) for k, v in values.items()}
        output.configure(text=repr(shown))

    form = Form(frame, [
        Field("host", "Server", required=True, default="localhost"),
        Field("port", "Port", kind="port", default=50001),
        Field("user", "User"),
        Field("password", "Password", kind="password"),
        Field("mode", "Mode", kind="choice", choices=("binary", "text")),
        Field("verify", "Verify TLS certificates", kind="check", default=True),
        Field("folder", "Local folder", kind="folder"),
        Field("notes", "Notes", kind="textarea"),
    ], on_submit=show, submit_text="Submit")
    form.pack(fill="x")
    output.pack(fill="x", pady=(12, 0))
    root.mainloop()


if __name__ == "__main__":
    _demo()
