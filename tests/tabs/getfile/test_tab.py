"""The Getfile tab and the Serve-a-folder tool, in a real window against real servers."""

import os

import pytest

from netgui.net.getfile import client as getfile
from netgui.servers.getfile import GetfileServer
from netgui.tabs import TabSpec, ToolSpec
from tests.support.getfile_original import OriginalServer, original_fetch
from tests.support.tk import pump

TABS = [TabSpec("getfile", "Getfile", "netgui.tabs.getfile", "GetfileTab")]
TOOLS = [ToolSpec("Serve a folder (getfile)…", "netgui.tabs.getfile.server_window", "open")]


@pytest.fixture(autouse=True)
def fresh_peer_memory():
    getfile.forget_peers()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "root"
    (root / "docs").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"hello from the server\n")
    (root / "docs" / "big.bin").write_bytes(os.urandom(8 << 20))
    return root


@pytest.fixture
def dest(tmp_path):
    d = tmp_path / "downloads"
    d.mkdir()
    return d


def make_tab(make_app):
    app = make_app(tabs=TABS, tools=TOOLS)
    return app, app.tab("getfile")


def fill(tab, **values):
    tab.form.set_values(values)


def row_values(tab, iid):
    return tab.tree.item(iid, "values")


def test_download_from_netgui_server_completes_and_enables_open_folder(make_app, served, dest):
    app, tab = make_tab(make_app)
    opened = []
    tab.opener = opened.append
    with GetfileServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, file="docs/big.bin", folder=str(dest))
        tab.form.submit_button.invoke()
        assert len(tab.downloads) == 1
        (d,) = tab.downloads.values()
        assert tab.cancel_button.instate(["!disabled"])
        pump(app.root, until=lambda: not d.task.running, timeout=30, message="download to finish")
    state, done, rate, eta, server_col = row_values(tab, d.iid)
    assert state == "Done"
    assert done == "8.0 MiB"
    assert server_col == f"127.0.0.1:{server.port}"
    assert tab.tree.item(d.iid, "text") == "big.bin"
    assert (dest / "big.bin").read_bytes() == (served / "docs" / "big.bin").read_bytes()
    tab.tree.selection_set(d.iid)
    pump(app.root, timeout=0.1)
    assert tab.open_button.instate(["!disabled"])
    tab.open_button.invoke()
    assert opened == [dest]
    assert "Saved" in tab.form.status.cget("text")
    assert "NETGUI/1 GET 0 docs/big.bin" in tab.transcript.contents()
    assert tab.cancel_button.instate(["disabled"])


def test_errors_are_one_line_in_the_row_and_status(make_app, served, dest):
    app, tab = make_tab(make_app)
    with GetfileServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, file="../secret", folder=str(dest))
        tab.form.submit_button.invoke()
        (d,) = tab.downloads.values()
        pump(app.root, until=lambda: not d.task.running, timeout=10, message="failure")
    assert row_values(tab, d.iid)[0] == "Failed: ../secret is outside the served folder"
    assert tab.form.status.cget("text") == "secret: ../secret is outside the served folder"
    assert list(dest.iterdir()) == []
    tab.tree.selection_set(d.iid)
    pump(app.root, timeout=0.1)
    assert tab.open_button.instate(["disabled"])


def test_original_server_download_is_marked_unverified(make_app, served, dest):
    app, tab = make_tab(make_app)
    with OriginalServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, file="hello.txt", folder=str(dest))
        tab.form.submit_button.invoke()
        (d,) = tab.downloads.values()
        pump(app.root, until=lambda: not d.task.running, timeout=10, message="download")
        assert row_values(tab, d.iid)[0] == "Done (unverified: original server)"
        fill(tab, file="missing.txt")
        tab.form.submit_button.invoke()
        d2 = tab.downloads[tab.tree.get_children()[0]]
        pump(app.root, until=lambda: not d2.task.running, timeout=10, message="failure")
    assert "not found or is empty" in row_values(tab, d2.iid)[0]
    assert (dest / "hello.txt").read_bytes() == b"hello from the server\n"


def test_several_downloads_at_once_and_cancel(make_app, served, dest):
    app, tab = make_tab(make_app)
    (served / "huge.bin").write_bytes(b"\0" * (64 << 20))
    with GetfileServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, folder=str(dest))
        for name in ("hello.txt", "docs/big.bin"):
            fill(tab, file=name)
            tab.form.submit_button.invoke()
        assert len(tab.downloads) == 2
        # a third, cancelled straight away: nothing under the final name
        fill(tab, file="huge.bin")
        tab.form.submit_button.invoke()
        huge = tab.downloads[tab.tree.selection()[0]]
        assert huge.name == "huge.bin"
        tab.cancel_button.invoke()  # cancels the selected row
        pump(app.root, until=lambda: not any(d.task.running for d in tab.downloads.values()),
             timeout=30, message="all downloads to end")
    states = {d.name: row_values(tab, d.iid)[0] for d in tab.downloads.values()}
    assert states["hello.txt"] == "Done" and states["big.bin"] == "Done"
    assert states["huge.bin"] in ("Cancelled", "Done")  # it may have won the race on loopback
    if states["huge.bin"] == "Cancelled":
        assert not (dest / "huge.bin").exists()
    assert not tab.form.spinner.spinning
    tab.clear_button.invoke()
    assert tab.tree.get_children() == ()


def test_invalid_input_is_marked_inline(make_app, dest):
    app, tab = make_tab(make_app)
    fill(tab, host="127.0.0.1", port=50001, file="..", folder=str(dest / "missing"))
    tab.form.submit_button.invoke()
    assert tab.downloads == {}
    assert tab.form.message("file") != ""
    assert tab.form.message("folder") == "No such folder"


def test_browse_dialog_picks_a_remote_file(make_app, served, dest):
    app, tab = make_tab(make_app)
    with GetfileServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, file="", folder=str(dest))
        tab.browse_button.invoke()
        browser = tab.browser
        pump(app.root, until=lambda: browser.entries, timeout=10, message="listing")
        names = [browser.tree.item(i, "text") for i in browser.tree.get_children()]
        assert names == ["docs/", "hello.txt"]
        browser.tree.selection_set(browser.tree.get_children()[0])
        browser.activate()  # enter docs/
        pump(app.root, until=lambda: browser.entries and browser.folder == "docs", timeout=10,
             message="docs listing")
        first = browser.tree.get_children()[0]
        assert browser.tree.item(first, "text") == "big.bin"
        assert browser.tree.item(first, "values")[0] == "8.0 MiB"
        browser.tree.selection_set(first)
        browser.choose_button.invoke()
    assert tab.form.get("file") == "docs/big.bin"


def test_browse_against_an_original_server_explains(make_app, served, dest):
    app, tab = make_tab(make_app)
    with OriginalServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, folder=str(dest))
        tab.browse_button.invoke()
        browser = tab.browser
        pump(app.root, until=lambda: not browser.task.running, timeout=10, message="listing")
        assert browser.status.cget("text") == ("This is an original getfile server: "
                                               "it cannot list folders")
        browser.close()


def test_serve_tool_starts_serves_counts_and_stops(make_app, served, dest):
    from tests.support.peers import free_port
    app = make_app(tabs=TABS, tools=TOOLS)
    app.tools_menu.invoke(0)
    window = [w for w in app.root.winfo_children() if type(w).__name__ == "ServeWindow"][0]
    port = free_port()
    window.form.set_values({"root": str(served), "port": port, "public": False})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: window.server is not None, timeout=10, message="server start")
    assert window.server.host == "127.0.0.1"
    assert window.stop_button.instate(["!disabled"])
    local = original_fetch("127.0.0.1", port, "hello.txt", dest)
    assert open(local, "rb").read() == b"hello from the server\n"
    pump(app.root, until=lambda: "Bytes served: 22 B" == window.bytes_label.cget("text"),
         timeout=5, message="counters")
    assert window.requests_label.cget("text") == "Requests: 1"
    pump(app.root, until=lambda: '"hello.txt" 22 of 22 bytes' in window.log_pane.contents(),
         timeout=5, message="access log")
    window.stop_button.invoke()
    pump(app.root, until=lambda: window.state_label.cget("text") == "Stopped", timeout=10,
         message="stop")
    assert window.form.submit_button.instate(["!disabled"])
    window.close()


def test_quitting_the_app_stops_a_running_server(make_app, served):
    import socket
    import time

    from tests.support.peers import free_port
    app = make_app(tabs=TABS, tools=TOOLS)
    window = app.open_tool(app.tool_specs[0])
    port = free_port()
    window.form.set_values({"root": str(served), "port": port})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: window.server is not None, timeout=10, message="server start")
    server = window.server
    app.quit(ask=False)
    deadline = time.monotonic() + 10
    while server.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_serve_tool_offers_tls_with_a_certificate(make_app, served, dest, tmp_path):
    import ssl

    import trustme

    from netgui.net.getfile.client import fetch
    from tests.support.peers import free_port
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    chain = tmp_path / "server.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    app = make_app(tabs=TABS, tools=TOOLS)
    window = app.open_tool(app.tool_specs[0])
    port = free_port()
    window.form.set_values({"root": str(served), "port": port, "cert": str(chain)})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: window.server is not None, timeout=10, message="server start")
    assert "TLS offered" in window.form.status.cget("text")
    result = fetch("127.0.0.1", port, "hello.txt", dest, tls=client_ctx)
    assert result.tls and result.path.read_bytes() == b"hello from the server\n"
    window.close()


def test_serve_tool_reports_a_bad_certificate_in_one_line(make_app, served, tmp_path):
    from tests.support.peers import free_port
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    app = make_app(tabs=TABS, tools=TOOLS)
    window = app.open_tool(app.tool_specs[0])
    window.form.set_values({"root": str(served), "port": free_port(), "cert": str(bad)})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: "Cannot start" in window.form.status.cget("text"), timeout=10,
         message="error line")
    assert window.server is None
    assert "Cannot use the certificate " + str(bad) in window.form.status.cget("text")
    window.close()


def test_serve_tool_explains_a_busy_port(make_app, served):
    import socket
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    app = make_app(tabs=TABS, tools=TOOLS)
    window = app.open_tool(app.tool_specs[0])
    window.form.set_values({"root": str(served), "port": port})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: "Cannot start" in window.form.status.cget("text"), timeout=10,
         message="error line")
    assert window.form.status.cget("text") == (f"Cannot start: Cannot listen on 127.0.0.1 port "
                                               f"{port}: Address already in use")
    assert window.form.submit_button.instate(["!disabled"])
    taken.close()
    window.close()


def test_resume_shows_in_the_row(make_app, served, dest):
    data = (served / "docs" / "big.bin").read_bytes()
    mtime = int((served / "docs" / "big.bin").stat().st_mtime)
    part = dest / "big.bin.part"
    part.write_bytes(data[: 1 << 20])  # what an interrupted download left, stamped by the client
    os.utime(part, (mtime, mtime))
    app, tab = make_tab(make_app)
    with GetfileServer(served) as server:
        fill(tab, host="127.0.0.1", port=server.port, file="docs/big.bin", folder=str(dest))
        tab.form.submit_button.invoke()
        (d,) = tab.downloads.values()
        pump(app.root, until=lambda: not d.task.running, timeout=30, message="download")
    assert row_values(tab, d.iid)[0] == "Done, resumed at 1.0 MiB"
    assert (dest / "big.bin").read_bytes() == data
    assert "Resuming at byte 1048576" in tab.transcript.contents()


def test_certificate_option_only_with_tls(make_app):
    app, tab = make_tab(make_app)
    verify = tab.form.widgets["verify"]
    fill(tab, tls=False)
    assert verify.instate(["disabled"])
    fill(tab, tls=True)
    assert verify.instate(["!disabled"])
