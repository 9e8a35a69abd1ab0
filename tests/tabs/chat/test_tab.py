"""The Chat tab in a real window: line chat against netgui's server, IRC against ngircd, the server tool."""

import socket

import pytest

from netgui.net.chat.irc import IrcProfile
from netgui.servers.chat import ChatServer
from netgui.tabs import TabSpec, ToolSpec
from tests.net.chat.conftest import Runner
from tests.support.ngircd import Ngircd
from tests.support.tk import pump

CHAT = [TabSpec("chat", "Chat", "netgui.tabs.chat", "ChatTab")]
TOOL = ToolSpec("Start chat server…", "netgui.tabs.chat.server_window", "open")


@pytest.fixture
def ngircd(tmp_path):
    server = Ngircd(tmp_path / "ngircd").start()
    yield server
    server.stop()


@pytest.fixture
def chat_app(make_app):
    app = make_app(tabs=CHAT, tools=[TOOL])
    return app, app.tab("chat")


def window_named(tab, name):
    return next((w for w in tab.view.windows.values() if w.name == name), None)


def type_and_send(tab, text):
    tab.view.input.delete(0, "end")
    tab.view.input.insert(0, text)
    tab.view.send_button.invoke()


def test_line_chat_connect_send_and_receive(chat_app):
    app, tab = chat_app
    with ChatServer() as server:
        tab.forms.select(1)
        tab.line_form.set_values({"host": "127.0.0.1", "port": server.port})
        tab.line_form.submit_button.invoke()
        pump(app.root, until=lambda: "Welcome to the chat server" in tab.view.shown_text(), timeout=10,
             message="greeting")
        assert not tab.line_form.busy
        conn = tab.connections[-1]
        assert conn.peer.startswith("127.0.0.1:")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other, other.makefile("rb") as f:
            f.readline()
            other.sendall("hello from a terminal ✓\n".encode())
            pump(app.root, until=lambda: "hello from a terminal ✓" in tab.view.shown_text(), timeout=10)
            type_and_send(tab, "hi everyone")
            assert f.readline().decode().rstrip("\n").endswith(": hello from a terminal ✓")
            assert f.readline().decode() == f"{conn.peer}: hi everyone\n"
            pump(app.root, until=lambda: f"<{conn.peer}> hi everyone" in tab.view.shown_text(), timeout=10)
        assert "Server variant: per line" in tab.transcript.contents()
        tab.disconnect_button.invoke()
        pump(app.root, until=lambda: not conn.task.running, timeout=10, message="disconnect")
        assert tab.busy_tasks() == []


def test_line_chat_refused_shows_one_line(chat_app):
    app, tab = chat_app
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    tab.forms.select(1)
    tab.line_form.set_values({"host": "127.0.0.1", "port": port})
    tab.line_form.submit_button.invoke()
    pump(app.root, until=lambda: not tab.line_form.busy and "refused" in str(tab.line_form.status.cget("text")),
         timeout=10, message="error line")
    assert str(tab.line_form.status.cget("text")) == f"Connection refused by 127.0.0.1:{port}"


def test_irc_join_talk_highlight_unread_and_query(chat_app, ngircd):
    app, tab = chat_app
    bob = Runner(IrcProfile("127.0.0.1", ngircd.port, nick="bob", channels=["#gui"])).start()
    try:
        bob.wait_connected()
        bob.wait_for(lambda e: e.kind == "open")
        form = tab.irc_form
        form.set_values({"host": "127.0.0.1", "port": ngircd.port, "security": "No encryption", "nick": "alice",
                         "alt_nick": "alice2", "real_name": "Alice", "channels": "#gui, #second"})
        form.submit_button.invoke()
        pump(app.root, until=lambda: window_named(tab, "#gui") and window_named(tab, "#second"), timeout=10,
             message="channel windows")
        gui = window_named(tab, "#gui")
        assert tab.view.current is gui  # the first channel is shown after connecting
        pump(app.root, until=lambda: [n for _, n in gui.users] == ["bob", "alice"], timeout=10, message="nick list")
        assert tab.view.users.get(0, "end") == ("@bob", "alice")
        server_item = tab.connections[-1].server.item
        pump(app.root, until=lambda: tab.view.tree.item(server_item, "text") == "NetguiTest", timeout=5,
             message="network name in the list")

        type_and_send(tab, "hello bob")
        bob.wait_for(lambda e: e.kind == "message" and e.text == "hello bob" and e.nick == "alice")
        pump(app.root, until=lambda: "<alice> hello bob" in tab.view.shown_text(), timeout=10, message="own line")

        # a mention in a channel that is not shown: unread count and highlight in the list
        bob.say(None, "/join #second")
        bob.wait_for(lambda e: e.kind == "open" and e.window == "#second")
        bob.say("#second", "alice: are you there?")
        second = window_named(tab, "#second")
        pump(app.root, until=lambda: tab.view.tree.item(second.item, "text") == "#second  (1)", timeout=10,
             message="unread mark")
        assert second.unread == 1 and second.highlighted
        assert "highlight" in tab.view.tree.item(second.item, "tags")
        tab.view.select(second)
        pump(app.root, timeout=0.2)
        assert second.unread == 0 and tab.view.tree.item(second.item, "text") == "#second"
        assert "mention" in tab.view.text.tag_names("end-3c")

        # /me, then a private message opens a query window
        type_and_send(tab, "/me waves")
        bob.wait_for(lambda e: e.kind == "message" and e.style == "action" and e.text == "waves")
        bob.say(None, "/msg alice psst")
        pump(app.root, until=lambda: window_named(tab, "bob") is not None, timeout=10, message="query window")
        query = window_named(tab, "bob")
        tab.view.select(query)
        pump(app.root, until=lambda: "<bob> psst" in tab.view.shown_text(), timeout=10, message="private line")
        type_and_send(tab, "yes?")
        bob.wait_for(lambda e: e.kind == "message" and e.window == "alice" and e.text == "yes?")

        # /nick, then /part closes the channel window
        type_and_send(tab, "/nick alicia")
        pump(app.root, until=lambda: tab.connections[-1].nick == "alicia", timeout=10, message="nick change")
        tab.view.select(gui)
        type_and_send(tab, "/part")
        pump(app.root, until=lambda: window_named(tab, "#gui") is None, timeout=10, message="part")
        bob.wait_for(lambda e: e.kind == "info" and e.text == "alicia left")

        # quitting ends the task cleanly
        tab.disconnect_button.invoke()
        conn = tab.connections[-1]
        pump(app.root, until=lambda: not conn.task.running, timeout=10, message="quit")
        assert conn.task.state == "done"
        bob.wait_for(lambda e: e.kind == "info" and "alicia quit" in e.text)
    finally:
        bob.stop()


def test_irc_profile_password_goes_to_the_keyring_only(chat_app, test_keyring, isolated_config):
    app, tab = chat_app
    form = tab.irc_form
    form.set_values({"profile": "home", "host": "irc.example.test", "port": 6697, "nick": "me",
                     "password": "sasl-Secret-42", "channels": "#a"})
    form.buttons.winfo_children()  # the Save profile button is beside Connect
    tab.save_profile()
    assert app.settings.profile("chat.irc", "home")["host"] == "irc.example.test"
    assert "sasl-Secret-42" in test_keyring.store.values()
    form.set_values({"host": "other", "password": ""})
    tab.load_profile("home")
    assert form.values()["password"] == "sasl-Secret-42" and form.values()["host"] == "irc.example.test"
    app.settings.save()
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert b"sasl-Secret-42" not in path.read_bytes(), path


def test_chat_server_tool_starts_lists_clients_and_stops(chat_app):
    app, tab = chat_app
    window = app.open_tool(TOOL)
    window.form.set_values({"host": "127.0.0.1", "port": 0})
    window.form.submit_button.invoke()
    pump(app.root, until=lambda: getattr(window, "port", None), timeout=10, message="listening")
    with socket.create_connection(("127.0.0.1", window.port), timeout=5) as client:
        assert client.recv(100).startswith(b"Welcome to the chat server")
        pump(app.root, until=lambda: window.clients.size() == 1, timeout=10, message="client listed")
        assert window.clients.get(0) == f"127.0.0.1:{client.getsockname()[1]}"
    window.stop_button.invoke()
    pump(app.root, until=lambda: not window.running, timeout=10, message="stopped")
    assert "Chat server stopped" in window.log.contents()
    window.close()


def test_flood_is_drawn_in_batches_and_capped(chat_app):
    app, tab = chat_app
    from netgui.tabs.chat.view import HISTORY
    with ChatServer() as server:
        tab.forms.select(1)
        tab.line_form.set_values({"host": "127.0.0.1", "port": server.port})
        tab.line_form.submit_button.invoke()
        pump(app.root, until=lambda: tab.connections and tab.connections[-1].peer, timeout=10, message="connect")
        inserts = []
        text = tab.view.text
        original = text.insert
        text.insert = lambda *args: (inserts.append(len(args)), original(*args))[1]
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as flooder:
            flooder.sendall(b"".join(b"flood %d\n" % i for i in range(3000)))
            pump(app.root, until=lambda: "flood 2999" in tab.view.shown_text(), timeout=30, message="last line")
        shown = tab.view.shown_text().splitlines()
        assert len(shown) <= HISTORY
        assert shown[-1].endswith("flood 2999")
        numbers = [int(line.rsplit(" ", 1)[1]) for line in shown if " flood " in line]
        assert numbers == list(range(3000 - len(numbers), 3000))  # nothing lost or reordered in what is kept
        assert len(inserts) < 300, f"{len(inserts)} Text inserts for 3000 lines: not batched"


def test_line_chat_detects_a_send_variant_server(chat_app):
    from tests.support.sendserver import SendVariantServer
    app, tab = chat_app
    server = SendVariantServer()
    try:
        tab.forms.select(1)
        tab.line_form.set_values({"host": "127.0.0.1", "port": server.port, "variant": "Detect"})
        tab.line_form.submit_button.invoke()
        pump(app.root, until=lambda: tab.connections and tab.connections[-1].peer, timeout=10, message="greeting")
        conn = tab.connections[-1]
        type_and_send(tab, "buffered hello")
        pump(app.root, until=lambda: f"<{conn.peer}> buffered hello" in tab.view.shown_text(), timeout=15,
             message="relayed after SEND")
        assert "buffered until SEND" in conn.subtitle
        type_and_send(tab, "second")
        pump(app.root, until=lambda: f"<{conn.peer}> second" in tab.view.shown_text(), timeout=10)
        assert tab.view.shown_text().count("buffered hello") == 1
    finally:
        server.close()


def test_irc_window_survives_a_server_restart(chat_app, ngircd):
    app, tab = chat_app
    form = tab.irc_form
    form.set_values({"host": "127.0.0.1", "port": ngircd.port, "security": "No encryption", "nick": "steady",
                     "channels": "#stay"})
    form.submit_button.invoke()
    pump(app.root, until=lambda: window_named(tab, "#stay") is not None, timeout=10, message="join")
    stay = window_named(tab, "#stay")
    conn = tab.connections[-1]
    ngircd.restart()
    pump(app.root, until=lambda: "inactive" in tab.view.tree.item(stay.item, "tags"), timeout=10,
         message="window shown as inactive")
    assert not stay.active
    pump(app.root, until=lambda: stay.active and conn.connected, timeout=20, message="reconnect and rejoin")
    assert window_named(tab, "#stay") is stay  # the same window, not a new one
    server_lines = [" ".join(x for x in e if isinstance(x, str)) for e in conn.server.lines]
    assert any("Reconnecting in" in line for line in server_lines)
    assert sum("Connected to" in line for line in server_lines) == 2
    type_and_send(tab, "still here")
    pump(app.root, until=lambda: "<steady> still here" in tab.view.shown_text(), timeout=10)


def test_input_history_nick_completion_and_port_follows_security(chat_app):
    app, tab = chat_app
    view = tab.view
    conn = type("Conn", (), {"title": "net", "subtitle": ""})()
    window = view.add_window(conn, "#c", "channel", select=True)
    view.set_users(window, [("@", "Alice"), ("", "albert"), ("", "bob")])
    sent = []
    view.on_input = lambda w, text: sent.append(text)
    assert view.input.bind("<Up>") and view.input.bind("<Tab>")  # the keys are bound to what we call below
    for text in ("first", "second"):
        view.input.insert(0, text)
        view.send_button.invoke()
    view._recall(-1)
    assert view.input.get() == "second"
    view._recall(-1)
    assert view.input.get() == "first"
    view._recall(1)
    view._recall(1)
    assert view.input.get() == ""
    view.input.insert(0, "ali")
    view.input.icursor("end")
    view._complete_nick()
    assert view.input.get() == "Alice: "
    view.input.insert("end", "ask bo")
    view.input.icursor("end")
    view._complete_nick()
    assert view.input.get() == "Alice: ask bob "
    assert sent == ["first", "second"]

    form = tab.irc_form
    form.set_values({"security": "No encryption", "port": 6697})
    tab._security_changed()
    assert form.values()["port"] == 6667
    form.set_values({"security": "TLS (verified)"})
    tab._security_changed()
    assert form.values()["port"] == 6697
    form.set_values({"port": 7000, "security": "No encryption"})
    tab._security_changed()
    assert form.values()["port"] == 7000  # a port the user chose is left alone


def test_closing_a_connection_window_disconnects_and_removes_it(chat_app):
    app, tab = chat_app
    with ChatServer() as server:
        tab.forms.select(1)
        tab.line_form.set_values({"host": "127.0.0.1", "port": server.port, "variant": "Per line"})
        tab.line_form.submit_button.invoke()
        pump(app.root, until=lambda: tab.connections and tab.connections[-1].peer, timeout=10, message="connect")
        conn = tab.connections[-1]
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other:
            tab.close_button.invoke()  # the connection's window is shown: closing it ends the connection
            other.sendall(b"late line\n")  # may still arrive while the task ends: must be dropped quietly
            pump(app.root, until=lambda: not conn.task.running, timeout=10, message="task ended")
        assert conn not in tab.connections
        assert tab.view.windows == {}
        assert "Connect to an IRC network" in tab.view.shown_text()  # back to the hint


def test_sasl_password_never_reaches_transcript_or_config(chat_app, isolated_config, test_keyring):
    import base64

    from tests.support.saslserver import SaslServer
    app, tab = chat_app
    server = SaslServer(account="alice_acct", password="Very-Secret-9")
    form = tab.irc_form
    form.set_values({"host": "127.0.0.1", "port": server.port, "security": "No encryption", "nick": "alice",
                     "account": "alice_acct", "password": "Very-Secret-9", "channels": ""})
    form.submit_button.invoke()
    conn = tab.connections[-1]
    pump(app.root, until=lambda: conn.connected, timeout=10, message="SASL login")
    transcript = tab.transcript.contents()
    assert "AUTHENTICATE ****" in transcript
    assert "Very-Secret-9" not in transcript
    assert base64.b64encode(b"alice_acct\0alice_acct\0Very-Secret-9").decode() not in transcript
    assert "Very-Secret-9" in test_keyring.store.values()  # remembered, in the keyring only
    app.settings.save()
    for path in isolated_config.rglob("*"):
        if path.is_file():
            assert b"Very-Secret-9" not in path.read_bytes(), path
    tab.disconnect_button.invoke()
    pump(app.root, until=lambda: not conn.task.running, timeout=10, message="quit")
