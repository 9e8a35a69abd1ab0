"""The reusable Form with real Tk widgets."""

from netgui.config import Secrets, Settings
from netgui.ui.form import Field, Form
from tests.support.tk import pump


def fields():
    return [
        Field("host", "Server", required=True),
        Field("port", "Port", kind="port", default=50001),
        Field("count", "Count", kind="int", minimum=1, maximum=10, default=3),
        Field("password", "Password", kind="password"),
        Field("mode", "Mode", kind="choice", choices=("binary", "text")),
        Field("verify", "Verify", kind="check", default=True),
        Field("folder", "Folder", kind="folder"),
        Field("notes", "Notes", kind="textarea"),
        Field("name", "Name", validator=lambda v: "No spaces" if " " in v else None),
    ]


def test_values_are_typed(root):
    form = Form(root, fields())
    form.pack()
    form.set_values({"host": " example.org ", "notes": "two\nlines", "folder": "/tmp"})
    values = form.values()
    assert values == {"host": "example.org", "port": 50001, "count": 3, "password": "",
                      "mode": "binary", "verify": True, "folder": "/tmp", "notes": "two\nlines",
                      "name": ""}


def test_validation_messages_appear_next_to_fields(root):
    submitted = []
    form = Form(root, fields(), on_submit=submitted.append)
    form.pack()
    form.set_values({"port": "70000", "count": "x", "name": "a b"})
    assert form.submit() is False
    assert form.message("host") == "Required"
    assert form.message("port") == "Must be between 1 and 65535"
    assert form.message("count") == "Enter a whole number"
    assert form.message("name") == "No spaces"
    assert submitted == []
    # Fixing a field clears its message as the user types.
    form.set("host", "h")
    assert form.message("host") == ""


def test_return_submits(root):
    submitted = []
    form = Form(root, fields(), on_submit=submitted.append)
    form.pack()
    form.set_values({"host": "example.org", "mode": "text"})
    entry = form.widgets["host"]
    entry.focus_force()
    pump(root, timeout=0.2)
    entry.event_generate("<Return>")
    pump(root, until=lambda: submitted, timeout=2, message="submit on Return")
    assert submitted[0]["host"] == "example.org"
    assert submitted[0]["mode"] == "text"


def test_busy_state_disables_inputs_and_spins(root):
    form = Form(root, fields())
    form.pack()
    cancel = form.add_button("Cancel", lambda: None)
    form.set_busy(True, "Connecting to h:1")
    assert form.widgets["host"].instate(["disabled"])
    assert form.submit_button.instate(["disabled"])
    assert str(form.widgets["notes"].cget("state")) == "disabled"
    assert not cancel.instate(["disabled"])  # extra buttons (Cancel) stay usable
    assert form.spinner.spinning
    assert form.status.cget("text") == "Connecting to h:1"
    assert form.submit() is False  # no double submit while busy
    form.set_busy(False)
    assert not form.widgets["host"].instate(["disabled"])
    assert form.widgets["mode"].instate(["readonly"])
    assert not form.spinner.spinning


def test_values_are_remembered_with_password_in_keyring_only(root, isolated_config, test_keyring):
    settings, secrets = Settings(), Secrets()
    form = Form(root, fields(), settings=settings, secrets=secrets, store_key="demo")
    form.set_values({"host": "example.org", "port": 2121, "password": "hunter2"})
    assert form.submit()
    again = Form(root, fields(), settings=Settings(), secrets=Secrets(), store_key="demo")
    assert again.values()["host"] == "example.org"
    assert again.values()["port"] == 2121
    assert again.values()["password"] == "hunter2"
    assert test_keyring.store[("netgui", "form/demo/password")] == "hunter2"
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert "hunter2" not in path.read_text()


def test_validation_style_survives_theme_switches(root):
    """sv_ttk's palette must not override the red of validation messages."""
    from tkinter import ttk

    from netgui.ui.theme import DARK, apply_theme
    form = Form(root, fields())
    form.pack()
    form.submit()
    apply_theme(root, "dark")
    pump(root, timeout=0.2)
    label = form.messages["host"]
    assert str(label.cget("foreground")) == ""  # no hard-set colour: the style decides
    assert ttk.Style(root).lookup("Error.TLabel", "foreground") == DARK.error


def test_a_remembered_choice_no_longer_offered_is_dropped(root):
    settings = Settings()
    settings.set_form_values("demo", {"host": "h", "mode": "ascii"})  # an old choice
    form = Form(root, fields(), settings=settings, store_key="demo")
    assert form.values()["mode"] == "binary"
    assert form.values()["host"] == "h"


def test_worker_log_lines_are_redacted_line_by_line(root):
    from netgui.ui.tasks import TaskRunner
    runner = TaskRunner(root)
    logs = []
    task = runner.submit(lambda ctx: ctx.log(">", "USER bob\nPASS hunter2\nQUIT"),
                         on_log=lambda d, t: logs.append(t))
    pump(root, until=lambda: not task.running, timeout=5, message="task to end")
    assert logs == ["USER bob\nPASS ****\nQUIT"]


def test_a_field_disabled_by_the_tab_stays_disabled_after_busy(root):
    form = Form(root, fields())
    form.set_enabled("password", False)
    form.set_busy(True)
    form.set_busy(False)
    assert form.widgets["password"].instate(["disabled"])
    assert not form.widgets["host"].instate(["disabled"])
    form.set_enabled("password", True)
    assert not form.widgets["password"].instate(["disabled"])


def test_hidden_fields_keep_their_values_and_come_back_in_place(root):
    form = Form(root, fields())
    form.pack()
    form.set_values({"folder": "/tmp", "verify": False})
    root.update()
    row = form.widgets["folder"].master.grid_info()["row"]
    for name in ("folder", "verify", "port"):
        form.set_visible(name, False)
    root.update()
    assert not form.visible("folder") and not form.widgets["verify"].winfo_ismapped()
    assert not form.widgets["port"].winfo_ismapped() and form.values()["folder"] == "/tmp"
    form.set_visible("folder", True)
    root.update()
    assert form.visible("folder") and form.widgets["folder"].master.grid_info()["row"] == row
    assert form.values()["verify"] is False
