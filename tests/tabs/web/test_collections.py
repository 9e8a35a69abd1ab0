"""Collections in the Web tab, in a real window against the real test HTTP app: the sidebar,
environments and secrets, checks, saving, outside edits, import and the runner."""

from __future__ import annotations

import json
import time

import pytest

from netgui.net.http.collection import parse_http
from netgui.net.http.variables import load_environments, secret_account
from netgui.tabs import TabSpec
from tests.support.httpapp import http_app  # noqa: F401
from tests.support.tk import pump

WEB = [TabSpec("web", "Web", "netgui.tabs.web", "WebTab")]

USERS = """\
### List
# @check status == 200
# @check json $.tags length == 2
GET {{host}}/json

### Create
# @check status == 201
# @check json $.headers.Authorization == "Bearer {{token}}"
POST {{host}}{{api}}?who={{who}}
Content-Type: application/json
Authorization: Bearer {{token}}

{"name": "Zoë"}
"""


@pytest.fixture
def collection(tmp_path, http_app):
    root = tmp_path / "api"
    (root / "users").mkdir(parents=True)
    (root / "http-client.env.json").write_text(json.dumps({
        "$shared": {"api": "/echo"},
        "Local": {"host": http_app.url("").rstrip("/"), "token": {"secret": True}, "who": "local"},
        "Nowhere": {"host": "http://127.0.0.1:1", "who": "nobody"}}))
    (root / "users" / "users.http").write_text(USERS)
    (root / "health.http").write_text("# @check status == 200\nGET {{host}}/echo?ok=1\n")
    return root


@pytest.fixture
def tab(make_app, collection, test_keyring):
    test_keyring.set_password("netgui", secret_account(collection, "Local", "token"), "tok-SECRET-42")
    app = make_app(tabs=WEB)
    web = app.tab("web")
    web.show_sidebar()
    web.collections.open(collection)
    pump(app.root, until=lambda: web.collections.collection is not None and web.collections.secrets_loaded,
         timeout=10, message="the collection to open")
    return web


def wait_idle(tab, timeout=15):
    pump(tab.app.root, until=lambda: not tab.busy_tasks(), timeout=timeout, message="the tab's tasks")
    pump(tab.app.root, timeout=0.05)


def send(tab):
    tab.form.submit_button.invoke()
    pump(tab.app.root, until=lambda: not tab.form.busy, timeout=15, message="the request to finish")
    pump(tab.app.root, timeout=0.05)


def body_json(tab):
    return json.loads(tab.body_views.text.get("1.0", "end-1c"))


def test_the_sidebar_shows_folders_files_and_requests(tab):
    tree = tab.collections.tree
    assert [tree.item(i, "text") for i in tree.get_children("")] == ["health", "users/"]
    assert [tree.item(i, "text") for i in tree.get_children("d:users")] == ["users.http"]
    assert [(tree.item(i, "text"), tree.set(i, "method")) for i in tree.get_children("f:users/users.http")] == [
        ("List", "GET"), ("Create", "POST")]
    assert tab.collections.env_box.cget("values") == ("(no environment)", "Local", "Nowhere")
    assert tab.collections.env_var.get() == "Local"
    assert tab.collections.secret_values == {"token": "tok-SECRET-42"}


def test_a_request_opens_resolves_sends_and_checks(tab, http_app):
    panel = tab.collections
    panel.tree.selection_set("r:users/users.http#1")
    panel.open_selected()
    values = tab.form.values()
    assert (values["method"], values["url"]) == ("POST", "{{host}}{{api}}?who={{who}}")
    assert tab.headers.rows() == [("Authorization", "Bearer {{token}}")]
    assert tab.raw_text.get("1.0", "end-1c") == '{"name": "Zoë"}' and tab.raw_type.get() == "application/json"
    assert tab.checks_view.lines() == ["status == 201", 'json $.headers.Authorization == "Bearer {{token}}"']
    send(tab)
    echoed = body_json(tab)
    assert echoed["path"] == "/echo?who=local" and echoed["headers"]["Authorization"] == "Bearer tok-SECRET-42"
    assert tab.checks_view.rows() == [
        ("✘", "status == 201", "status is 200"),
        ("✔", 'json $.headers.Authorization == "Bearer {{token}}"', "$.headers.Authorization is Bearer ****")]
    assert tab.request_book.tab(tab.checks_view, "text") == "Checks ✘1"
    transcript = tab.transcript.contents()
    assert f"POST {http_app.url('/echo?who=local')}" in transcript
    assert "Authorization: Bearer ****" in transcript and "tok-SECRET-42" not in transcript
    curl = tab.copy_curl()
    assert "Bearer ****" in curl and "tok-SECRET-42" not in curl and "who=local" in curl
    assert tab.clipboard_get() == curl
    history = tab.app.settings.get("web.history")
    assert history[0]["request"]["url"] == "{{host}}{{api}}?who={{who}}"  # as written, no secret


def test_environments_switch_and_undefined_variables_are_one_line(tab):
    panel = tab.collections
    panel.open_request("health.http", 0)
    send(tab)
    assert tab.summary.status.cget("text") == "200 OK"
    assert tab.checks_view.rows() == [("✔", "status == 200", "status is 200")]
    panel.env_box.set("Nowhere")
    panel.env_box.event_generate("<<ComboboxSelected>>")
    wait_idle(tab)
    send(tab)
    assert "refused" in tab.form.status.cget("text")
    assert tab.checks_view.summary.cget("text") == "No response to check."
    panel.select_env("(no environment)")
    wait_idle(tab)
    tab.form.submit_button.invoke()
    assert tab.form.status.cget("text").startswith("Undefined variable {{host}}")
    assert not tab.form.busy
    assert tab.app.settings.get("web.collection")["envs"][str(panel.root_path)] is None


def test_saving_edits_one_request_and_keeps_credentials_out_of_the_file(tab, collection):
    panel = tab.collections
    panel.open_request("users/users.http", 0)
    tab.form.set("url", "{{host}}/json?page=2")
    tab.headers.set_rows([("X-Api-Key", "key-LITERAL-7")])
    tab.checks_view.set_lines(["status == 200", "json $.name == netgui"])
    panel.save_button.invoke()
    wait_idle(tab)
    text = (collection / "users" / "users.http").read_text()
    first, second = parse_http(text).entries
    assert first.url == "{{host}}/json?page=2" and first.name == "List"
    assert first.headers == [("X-Api-Key", "{{x_api_key}}")]
    assert first.checks == ["status == 200", "json $.name == netgui"]
    assert second == parse_http(USERS).entries[1]
    assert "key-LITERAL-7" not in text and "key-LITERAL-7" not in (collection / "http-client.env.json").read_text()
    assert tab.app.secrets.get(secret_account(collection, "Local", "x_api_key")) == "key-LITERAL-7"
    assert load_environments(collection)["Local"].get("x_api_key").secret
    assert "credentials went to the keyring as {{x_api_key}} of Local" in tab.form.status.cget("text")
    assert tab.headers.rows() == [("X-Api-Key", "{{x_api_key}}")]
    pump(tab.app.root, until=lambda: panel.secret_values.get("x_api_key") == "key-LITERAL-7", timeout=10,
         message="the new secret to be read back")
    send(tab)
    assert body_json(tab)["name"] == "netgui"


def test_save_as_a_new_request_file(tab, collection):
    panel = tab.collections
    panel.new_request()
    assert tab.form.values()["url"] == "{{host}}/"
    tab.form.set("url", "{{host}}/echo?new=1")
    panel.tree.selection_set("d:users")
    dialog = panel.save_as_dialog()
    dialog.answer("Find user", "users")
    wait_idle(tab)
    saved = parse_http((collection / "users" / "Find-user.http").read_text()).entries
    assert [(e.name, e.url, e.checks) for e in saved] == [("Find user", "{{host}}/echo?new=1", ["status == 200"])]
    pump(tab.app.root, until=lambda: panel.tree.exists("r:users/Find-user.http#0"), timeout=10,
         message="the new file in the tree")
    assert panel.current == ("users/Find-user.http", 0)


def test_outside_edits_are_picked_up_and_a_conflicting_save_asks_first(tab, collection):
    panel = tab.collections
    panel.open_request("health.http", 0)
    path = collection / "health.http"
    path.write_text("### Health\n# @check status == 200\nGET {{host}}/echo?ok=2\n\n### Added outside\nGET {{host}}/json\n")
    pump(tab.app.root, until=lambda: panel.tree.exists("r:health.http#1"), timeout=15,
         message="the outside edit to show")
    assert panel.tree.item("r:health.http#1", "text") == "Added outside"
    assert "changed on disk" in panel.where.cget("text")
    tab.form.set("url", "{{host}}/echo?mine=1")
    panel.save()
    wait_idle(tab)
    assert "changed on disk" in tab.form.status.cget("text")
    assert "ok=2" in path.read_text()
    panel.save()  # the second press overwrites that request
    wait_idle(tab)
    entries = parse_http(path.read_text()).entries
    assert [e.url for e in entries] == ["{{host}}/echo?mine=1", "{{host}}/json"]


def test_no_file_work_on_the_tk_thread_while_watching(tab, monkeypatch):
    """The watcher only schedules a look in a worker; the Tk thread never stats the folder."""
    import threading

    from netgui.net.http import collection as core
    calls = []
    real = core.snapshot

    def spy(root):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(root)

    monkeypatch.setattr(core, "snapshot", spy)
    monkeypatch.setattr("netgui.tabs.web.collection_work.snapshot", spy)
    deadline = time.monotonic() + 6
    pump(tab.app.root, until=lambda: len(calls) >= 1 or time.monotonic() > deadline, timeout=8)
    assert calls and not any(calls)


def test_import_curl_into_the_collection_and_into_the_form(tab, collection, http_app):
    panel = tab.collections
    dialog = panel.import_dialog()
    dialog.paste(f"curl '{http_app.url('/echo')}' -H 'Authorization: Bearer curl-TOKEN-1' "
                 "--data-raw $'{\"a\":\"b\\'c\"}' -H 'Content-Type: application/json'")
    dialog.import_button.invoke()
    pump(tab.app.root, until=lambda: dialog.result is not None, timeout=10, message="the import")
    written = dialog.result
    assert written.files == ["post-echo.http"] and written.secrets == {"token_2": "curl-TOKEN-1"}
    entry = parse_http((collection / "post-echo.http").read_text()).entries[0]
    assert entry.headers[0] == ("Authorization", "Bearer {{token_2}}") and entry.body == '{"a":"b\'c"}'
    assert entry.option("no-redirect") == ""  # curl without -L does not follow redirects
    assert tab.app.secrets.get(secret_account(collection, "Local", "token_2")) == "curl-TOKEN-1"
    pump(tab.app.root, until=lambda: panel.tree.exists("r:post-echo.http#0"), timeout=10)
    dialog.destroy()

    dialog = panel.import_dialog()
    dialog.target.set("form")
    dialog.paste(f"curl -u alice:s3cret-pw {http_app.url('/auth')}")
    dialog.import_button.invoke()
    assert tab.form.values()["username"] == "alice" and tab.form.values()["password"] == "s3cret-pw"
    send(tab)
    assert tab.summary.status.cget("text") == "200 OK"


def test_import_har_and_postman_files(tab, collection, tmp_path):
    har = tmp_path / "session.har"
    har.write_text(json.dumps({"log": {"entries": [
        {"request": {"method": "GET", "url": "https://shop.example.com/api/cart", "headers": [
            {"name": "Cookie", "value": "sid=HAR-SESSION"}]}}]}}))
    panel = tab.collections
    dialog = panel.import_dialog()
    dialog.set_file(str(har))
    dialog.folder.set("users")
    dialog.import_button.invoke()
    pump(tab.app.root, until=lambda: dialog.result is not None, timeout=10, message="the HAR import")
    assert dialog.result.files == ["users/shop.example.com.http"]
    assert "HAR-SESSION" not in (collection / "users" / "shop.example.com.http").read_text()
    dialog.destroy()

    postman = tmp_path / "shop.postman_collection.json"
    postman.write_text(json.dumps({
        "info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "variable": [{"key": "shop", "value": "https://shop.example.com"}],
        "item": [{"name": "Orders", "item": [{"name": "Recent orders", "request": {
            "method": "GET", "url": "{{shop}}/orders"}}]}]}))
    dialog = panel.import_dialog()
    dialog.set_file(str(postman))
    dialog.import_button.invoke()
    pump(tab.app.root, until=lambda: dialog.result is not None, timeout=10, message="the Postman import")
    assert dialog.result.files == ["Orders/Recent-orders.http"]
    assert load_environments(collection)["$shared"].get("shop").value == "https://shop.example.com"
    pump(tab.app.root, until=lambda: panel.tree.exists("r:Orders/Recent-orders.http#0"), timeout=10)
    assert panel.tree.item("r:Orders/Recent-orders.http#0", "text") == "Recent orders"
    dialog.destroy()


def test_the_environment_editor_keeps_secrets_in_the_keyring(tab, collection):
    panel = tab.collections
    editor = panel.edit_environments()
    editor.add_env("Staging")
    editor.set_variable("host", "http://staging.invalid", False)
    editor.set_variable("token", "staging-SECRET", True)
    assert editor.table.item("token", "values")[1] == "••••••"
    editor.save()
    pump(tab.app.root, until=lambda: not editor.winfo_exists(), timeout=10, message="the editor to save")
    wait_idle(tab)
    envs = load_environments(collection)
    assert envs["Staging"].get("host").value == "http://staging.invalid" and envs["Staging"].get("token").secret
    assert "staging-SECRET" not in (collection / "http-client.env.json").read_text()
    assert tab.app.secrets.get(secret_account(collection, "Staging", "token")) == "staging-SECRET"
    pump(tab.app.root, until=lambda: panel.env_var.get() == "Staging"
         and panel.secret_values == {"token": "staging-SECRET"}, timeout=10, message="Staging selected")
    assert "Staging" in panel.env_box.cget("values")

    editor = panel.edit_environments()
    editor.select_env("Staging")
    editor.table.selection_set("token")
    editor.remove_variable()
    editor.save()
    pump(tab.app.root, until=lambda: not editor.winfo_exists(), timeout=10)
    wait_idle(tab)
    assert tab.app.secrets.get(secret_account(collection, "Staging", "token")) is None


@pytest.mark.parametrize("mode", ["order", "parallel"])
def test_the_runner_runs_a_collection_with_a_results_table(tab, collection, tmp_path, mode):
    panel = tab.collections
    window = panel.run("")
    assert [row[0] for row in window.rows()] == ["health.http › GET /echo", "users/users.http › List",
                                                 "users/users.http › Create"]
    window.start(mode, 3)
    pump(tab.app.root, until=lambda: not window.task.running and len(window.results) == 3, timeout=20,
         message="the run")
    pump(tab.app.root, timeout=0.05)
    rows = window.rows()
    assert [(r[1], r[2], r[4], r[5]) for r in rows] == [
        ("GET", "200 OK", "1/1", "✔ pass"), ("GET", "200 OK", "2/2", "✔ pass"), ("POST", "200 OK", "1/2", "✘ fail")]
    assert window.summary.cget("text").startswith("3 requests: 2 passed, 1 failed, 0 errors")
    assert window.table.selection() == ("2",)  # the first failure is shown
    assert "✘ status == 201  —  status is 200" in window.detail_text()
    assert "tok-SECRET-42" not in window.detail_text()
    report = tmp_path / "run.xml"
    window.save_junit(str(report))
    pump(tab.app.root, until=report.exists, timeout=10, message="the report")
    assert 'failures="1"' in report.read_text()
    window.open_selected()
    assert panel.current == ("users/users.http", 1)
    window.close()


def test_the_runner_runs_one_folder_and_can_be_cancelled(tab, collection, http_app):
    (collection / "users" / "zz-slow.http").write_text(
        f"GET {http_app.url('/slow-head?for=5')}\n\n###\nGET {{{{host}}}}/json\n")
    panel = tab.collections
    panel.reload()
    pump(tab.app.root, until=lambda: panel.tree.exists("f:users/zz-slow.http"), timeout=10)
    panel.tree.selection_set("d:users")
    window = panel.run()
    assert len(window.items) == 4 and all(i.path.startswith("users/") for i in window.items)
    window.start("order")
    pump(tab.app.root, until=lambda: window.rows()[2][5] == "running…", timeout=20,
         message="the slow request to start")
    assert [r[5] for r in window.rows()][:2] == ["✔ pass", "✘ fail"]
    window.cancel()
    pump(tab.app.root, until=lambda: not window.task.running, timeout=10, message="the cancel")
    assert window.summary.cget("text").startswith("Cancelled")
    assert [r[5] for r in window.rows()][2:] == ["– skipped", "– skipped"]
    window.close()


def test_the_sidebar_hides_and_comes_back(tab):
    tab.hide_sidebar()
    assert str(tab.sidebar) not in tab.paned.panes() and tab.sidebar_button.winfo_manager() == "pack"
    assert tab.app.settings.get("web.sidebar") is False
    tab.sidebar_button.invoke()
    assert str(tab.sidebar) in tab.paned.panes() and not tab.sidebar_button.winfo_manager()


def test_a_curl_command_pasted_into_the_url_fills_the_form(tab, http_app):
    tab.form.set("url", f"curl -X PUT {http_app.url('/echo')} -H 'X-Pasted: yes' --data-raw 'hello' -L")
    pump(tab.app.root, timeout=0.1)
    values = tab.form.values()
    assert (values["method"], values["url"], values["follow"]) == ("PUT", http_app.url("/echo"), True)
    assert ("X-Pasted", "yes") in tab.headers.rows() and tab.raw_text.get("1.0", "end-1c") == "hello"
    assert tab.form.status.cget("text") == "Imported the curl command"
    send(tab)
    echoed = body_json(tab)
    assert echoed["method"] == "PUT" and echoed["body"] == "hello" and echoed["headers"]["X-Pasted"] == "yes"
    tab.form.set("url", "curl 'unclosed")
    pump(tab.app.root, timeout=0.1)
    assert tab.form.status.cget("text").startswith("Not imported: The command cannot be read")


def test_a_file_edited_as_text_and_a_name_taken_twice(tab, collection):
    panel = tab.collections
    editor = panel.edit_text("health.http")
    assert editor.text.get("1.0", "end-1c").startswith("# @check status == 200")
    editor.text.insert("end", "\n###\n@who = text-editor\nGET {{host}}/echo?who={{who}}\n")
    editor.save_button.invoke()
    pump(tab.app.root, until=lambda: not editor.winfo_exists(), timeout=10, message="the editor to save")
    pump(tab.app.root, until=lambda: panel.tree.exists("r:health.http#1"), timeout=10)
    assert len(parse_http((collection / "health.http").read_text()).entries) == 2
    for _ in range(2):
        panel.new_request()
        panel.save_as("Same name")
        wait_idle(tab)
    assert (collection / "Same-name.http").exists() and (collection / "Same-name-2.http").exists()
    assert panel.current == ("Same-name-2.http", 0)
