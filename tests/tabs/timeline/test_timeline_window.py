"""The Timeline window in the real app: every tab's wire lines arrive live, searches run in a
worker, a line jumps to its tab and item, the selection exports as text and JSON, and the
store outlives the window and the app."""

from __future__ import annotations

import json

import pytest

from netgui.tabs import handoff
from netgui.tabs.timeline import TimelineWindow
from tests.net.ftp.conftest import make_tree
from tests.support.dns_fixtures import dnsmasq  # noqa: F401
from tests.support.doctor_peers import LinksPage
from tests.support.ftpd import FtpServer
from tests.support.tabflows import ftp_download
from tests.support.tk import pump


@pytest.fixture
def ftp_server(tmp_path):
    server = FtpServer(make_tree(tmp_path / "srv"), anonymous=True).start()
    yield server
    server.stop()


def wait(app, until, message, timeout=15):
    pump(app.root, until=until, timeout=timeout, message=message)


def windows(app) -> list[TimelineWindow]:
    return [w for w in app.root.winfo_children() if isinstance(w, TimelineWindow) and w.winfo_exists()]


def shown(window) -> list:
    window.flush()
    return [window.events[row] for row in window.tree.get_children()]


def search(app, window, text):
    window.search(text)
    wait(app, lambda: not window.search_task.running and "searched" in window.status.cget("text")
         or "not a time" in window.status.cget("text"), f"the search {text!r}")


def test_lines_from_every_tab_live_search_jump_and_export(app, ftp_server, dnsmasq, tmp_path):  # noqa: F811
    app.notebook.event_generate("<Control-Key-T>")  # Ctrl+Shift+T
    wait(app, lambda: windows(app), "the Timeline window")
    window = windows(app)[0]

    local = tmp_path / "local"
    local.mkdir()
    ftp = ftp_download(app, ftp_server, local, "hello.txt")

    dns = app.show_tab("dns")
    dns.form.set_values({"name": "a.test", "rdtype": "A", "server": f"127.0.0.1:{dnsmasq.port}"})
    dns.form.submit_button.invoke()
    wait(app, lambda: dns.result is not None and not dns.busy(), "the lookup")
    page = LinksPage()
    try:
        web = app.show_tab("web")
        web.form.set_values({"url": page.url("/doc"), "method": "GET"})
        web.form.submit_button.invoke()
        wait(app, lambda: not web.form.busy and web.last_response is not None, "the page")
    finally:
        page.stop()

    wait(app, lambda: {e.tab for e in shown(window)} >= {"ftp", "dns", "web"}, "lines of three tabs")
    events = shown(window)
    assert events == sorted(events, key=lambda e: e.t, reverse=True)  # newest on top
    ftp_lines = [e for e in events if e.tab == "ftp"]
    assert {(e.proto, e.host, e.port) for e in ftp_lines} == {("ftp", "127.0.0.1", ftp_server.port)}
    assert any(e.text.startswith("PASS ") and "****" in e.text for e in ftp_lines)  # redacted as shown
    assert any(e.item.startswith("transfer:") for e in ftp_lines)
    assert {e.item for e in events if e.tab == "dns"} == {"a.test A"}

    assert app.timeline.flush()
    search(app, window, 'proto:ftp dir:in "226"')
    found = shown(window)
    assert found and all(e.proto == "ftp" and e.dir == "<" and "226" in e.text for e in found)
    assert "searched in" in window.status.cget("text")
    search(app, window, f"host:127.0.0.1 tab:web after:{1}h")
    assert shown(window) and {e.tab for e in shown(window)} == {"web"}

    search(app, window, "tab:ftp")
    transfer = next(row for row in window.tree.get_children() if window.events[row].item.startswith("transfer:"))
    window.tree.selection_set(transfer)
    window.update()
    window.go_button.invoke()
    item = window.events[transfer].item
    assert app.current_tab_key() == "ftp"
    assert ftp.queue_pane.tree.selection() == (f"q{item[9:]}",)

    window.tree.selection_set(window.tree.get_children()[:3])
    text_path, json_path = tmp_path / "sel.txt", tmp_path / "sel.json"
    window.export(str(text_path), "text")
    window.export(str(json_path), "json")
    lines = text_path.read_text().splitlines()
    assert len(lines) >= 3 and all(" ftp 127.0.0.1:" in line for line in lines)
    data = json.loads(json_path.read_text())
    assert len(data) == 3 and {d["tab"] for d in data} == {"ftp"} and all("time" in d for d in data)

    search(app, window, "after:25:00")
    assert "after:25:00 is not a time" in window.status.cget("text")

    window.max_mb.set("50")
    window.max_days.set("7")
    assert window.apply_limits()
    assert (app.settings.get("timeline.max_mb"), app.settings.get("timeline.max_days")) == (50, 7)
    assert (app.timeline.max_bytes, app.timeline.max_age) == (50 << 20, 7 * 86400)


def test_a_failed_connection_line_offers_diagnose(app):
    from tests.support.peers import free_port
    port = free_port()
    window = handoff.open_timeline(app)
    getfile = app.show_tab("getfile")
    getfile.form.set_values({"host": "127.0.0.1", "port": port, "file": "x.txt"})
    getfile.form.submit_button.invoke()
    wait(app, lambda: not getfile.busy_tasks(), "the failed download")
    wait(app, lambda: any(e.dir == "!" for e in shown(window)), "the error line")
    row = next(r for r in window.tree.get_children() if window.events[r].dir == "!")
    window.tree.selection_set(row)
    window.update()
    assert window.events[row].target() == f"getfile://127.0.0.1:{port}"
    assert window.diagnose_button.instate(["!disabled"])
    window.diagnose_button.invoke()
    from netgui.tabs.doctor import DoctorWindow
    doctor = next(w for w in app.root.winfo_children() if isinstance(w, DoctorWindow))
    wait(app, lambda: doctor.report is not None, "the diagnosis")
    assert doctor.form.get("target") == f"getfile://127.0.0.1:{port}"
    assert doctor.report.verdict.step == f"TCP to 127.0.0.1:{port} (IPv4)"


def test_the_store_outlives_the_app(make_app):
    first = make_app()
    from netgui.timeline import Origin
    task = first.runner.submit(lambda ctx: ctx.log("<", "remember me 4242"),
                               origin=Origin("chat", "irc h:1", "irc", "h", 1))
    pump(first.root, until=lambda: not task.running, timeout=5)
    first.quit(ask=False)
    second = make_app()
    found = second.timeline.search("4242")
    assert [(e.tab, e.item, e.text) for e in found] == [("chat", "irc h:1", "remember me 4242")]
