"""Hand-off between tabs in the real window, against real peers: links in web pages, chat lines
and mail bodies open in their tabs (and offer the others); downloads, responses and DNS tables
go the other way, into a new message or a chat window."""

from __future__ import annotations

import socket

import pytest

from netgui.net.links import find_links
from netgui.net.mail import accounts
from netgui.servers.chat import ChatServer
from netgui.servers.getfile import GetfileServer
from netgui.tabs import handoff
from netgui.tabs.mail.compose import ComposeWindow
from netgui.ui.links import LINK_TAG, click_link, menu_labels
from tests.net.ftp.conftest import make_tree
from tests.support.dns_fixtures import dnsmasq  # noqa: F401
from tests.support.doctor_peers import LinksPage
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401
from tests.support.ftpd import FtpServer
from tests.support.ngircd import Ngircd
from tests.support.tabflows import ftp_download
from tests.support.tk import pump


@pytest.fixture
def ftp_server(tmp_path):
    server = FtpServer(make_tree(tmp_path / "srv"), anonymous=True).start()
    yield server
    server.stop()


@pytest.fixture
def ngircd(tmp_path):
    server = Ngircd(tmp_path / "ngircd").start()
    yield server
    server.stop()


def composes(app) -> list[ComposeWindow]:
    return [w for w in app.root.winfo_children() if isinstance(w, ComposeWindow) and w.winfo_exists()]


def wait(app, until, message, timeout=15):
    pump(app.root, until=until, timeout=timeout, message=message)


def shown_tab(app) -> str:
    return app.current_tab_key()


def fetch(app, url):
    web = app.show_tab("web")
    web.form.set_values({"url": url, "method": "GET"})
    web.form.submit_button.invoke()
    wait(app, lambda: not web.form.busy and web.last_response is not None, "the page")
    return web


def close_composes(app):
    for window in composes(app):
        window._closed = True
        window.destroy()


def test_links_of_a_web_page_open_in_their_tabs(app, ftp_server, ngircd):
    page = LinksPage(ftp_port=ftp_server.port, irc_port=ngircd.port)
    try:
        web = fetch(app, page.url())
        web.body_views.select("HTML")
        app.root.update()
        links = web.body_views.link_urls()
        mailto = next(u for u in links if u.startswith("mailto:"))
        assert any(u.startswith("ftp://") for u in links) and any(u.startswith("irc://") for u in links)

        web.body_views.click_link(mailto)  # mailto: is a link again, and writes a message
        wait(app, lambda: composes(app), "a compose window")
        window = composes(app)[0]
        assert window.form.get("to") == "bob@example.org"
        assert window.form.get("subject") == "From the web"
        close_composes(app)

        chat = app.show_tab("chat")
        chat.irc_form.set_values({"nick": "webber"})
        app.show_tab("web")
        web.body_views.click_link(f"irc://127.0.0.1:{ngircd.port}/%23netgui")
        assert shown_tab(app) == "chat"
        assert chat.irc_form.get("channels") == "#netgui" and chat.irc_form.get("port") == ngircd.port
        wait(app, lambda: any(w.name == "#netgui" for w in chat.view.windows.values()), "#netgui joined")

        app.show_tab("web")
        web.body_views.click_link(f"ftp://127.0.0.1:{ftp_server.port}/")
        ftp = app.tabs["ftp"]
        assert shown_tab(app) == "ftp" and ftp.form.get("anonymous") is True
        wait(app, lambda: ftp.remote_pane.entries and ftp.remote_pane.path == "/", "the FTP listing")

        app.show_tab("web")
        web.body_views.select("HTML")
        app.root.update()
        doc = f"http://127.0.0.1:{page.port}/doc"
        web.body_views.click_link(doc, button=3)  # the context menu offers the other tabs
        labels = menu_labels(web.body_views.html.context_menu)
        assert labels[:3] == ["Open here", "Look up 127.0.0.1 in DNS", f"Diagnose {doc}"]
        web.body_views.html.context_menu.unpost()
        web.body_views.html.context_menu.invoke(1)
        dns = app.tabs["dns"]
        assert shown_tab(app) == "dns" and dns.form.get("name") == "127.0.0.1"
        wait(app, lambda: not dns.busy(), "the DNS lookup")

        app.show_tab("web")
        web.body_views.click_link(doc)
        wait(app, lambda: not web.form.busy and web.last_response.url.endswith("/doc"), "the linked page")
        assert page.requests[-1] == "/doc"
    finally:
        page.stop()


def test_links_in_chat_lines(app, dnsmasq):  # noqa: F811
    page = LinksPage()
    chat = app.show_tab("chat")
    try:
        with ChatServer() as server:
            chat.forms.select(1)
            chat.line_form.set_values({"host": "127.0.0.1", "port": server.port})
            chat.line_form.submit_button.invoke()
            wait(app, lambda: "Welcome to the chat server" in chat.view.shown_text(), "the greeting")
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as other:
                other.sendall(f"see {page.url('/doc')}, mail alice@example.org or a.test\n".encode())
                wait(app, lambda: "a.test" in chat.view.shown_text(), "the line with links")
            text = chat.view.text
            tagged = [text.get(a, b) for a, b in zip(text.tag_ranges(LINK_TAG)[::2], text.tag_ranges(LINK_TAG)[1::2])]
            assert tagged == [page.url("/doc"), "alice@example.org", "a.test"]

            click_link(text, page.url("/doc"))
            web = app.tabs["web"]
            assert shown_tab(app) == "web"
            wait(app, lambda: not web.form.busy and web.last_response is not None, "the page from chat")
            assert web.last_response.status == 200

            app.show_tab("chat")
            click_link(text, "alice@example.org")
            wait(app, lambda: composes(app), "a compose window")
            assert composes(app)[0].form.get("to") == "alice@example.org"
            close_composes(app)

            app.show_tab("chat")
            dns = app.show_tab("dns")
            dns.form.set_values({"server": f"127.0.0.1:{dnsmasq.port}"})
            app.show_tab("chat")
            click_link(text, "a.test", button=3)
            menu = text.context_menu
            assert menu_labels(menu)[:3] == ["Look up in DNS", "Open https://a.test/ in Web", "Diagnose a.test"]
            menu.unpost()
            menu.invoke(0)
            assert shown_tab(app) == "dns"
            wait(app, lambda: dns.result is not None and not dns.busy(), "the lookup of a.test")
            assert dns.tables["answer"].rows()[0][-1] == "10.1.2.3"
    finally:
        page.stop()


def test_links_in_a_mail_body(app, mailuser):  # noqa: F811
    from tests.support import mailsamples as samples
    dovecot, user, _ = mailuser
    dovecot.deliver(user, samples.plain(subject="Links", body=(
        "Hello,\nthe report is at ftp://files.example/pub/report.pdf and\n"
        "questions go to mailto:carol@example.org?subject=Report please.\n")))
    accounts.save_account(app.settings, app.secrets, "Work", {
        "display_name": "Bob", "email": f"{user}@example.org", "incoming_protocol": "imap",
        "incoming_host": "127.0.0.1", "incoming_port": dovecot.imap_port, "incoming_security": "none",
        "incoming_user": user, "smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_security": "none"},
        incoming_password=PASSWORD)
    mail = app.show_tab("mail")
    mail.reload_accounts()
    wait(app, lambda: len(mail.list.rows) == 1 and not mail.busy_tasks(), "the message", timeout=20)
    mail.list.select(next(iter(mail.list.rows)))
    wait(app, lambda: mail.viewer.message is not None, "the message shown")
    body = mail.viewer.text
    ranges = body.tag_ranges(LINK_TAG)
    assert [body.get(a, b) for a, b in zip(ranges[::2], ranges[1::2])] == [
        "ftp://files.example/pub/report.pdf", "mailto:carol@example.org?subject=Report"]
    click_link(body, "mailto:carol@example.org?subject=Report")
    wait(app, lambda: composes(app), "a compose window")
    window = composes(app)[0]
    assert (window.form.get("to"), window.form.get("subject")) == ("carol@example.org", "Report")
    close_composes(app)
    click_link(body, "ftp://files.example/pub/report.pdf", button=3)
    assert menu_labels(body.context_menu) == ["Open in FTP", "Look up files.example in DNS",
                                              "Diagnose ftp://files.example/pub/report.pdf", "Copy"]
    body.context_menu.unpost()


def test_a_download_and_a_response_go_to_a_new_mail(app, ftp_server, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    ftp = ftp_download(app, ftp_server, local, "hello.txt")
    ftp.local_refresh()
    wait(app, lambda: "hello.txt" in ftp.local_pane.shown_names(), "the local listing")
    ftp.local_pane.select_names(["hello.txt"])
    menu = ftp.local_pane.menu
    menu.invoke(menu_labels(menu).index("Attach to new mail"))
    wait(app, lambda: composes(app) and composes(app)[0].draft.attachments, "the attachment")
    window = composes(app)[0]
    assert [a.filename for a in window.draft.attachments] == ["hello.txt"]
    assert window.form.get("subject") == "hello.txt"
    close_composes(app)

    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "hello.txt").write_bytes(b"hello\n")
    getfile = app.show_tab("getfile")
    with GetfileServer(tmp_path / "served") as server:
        getfile.form.set_values({"host": "127.0.0.1", "port": server.port, "file": "hello.txt",
                                 "folder": str(local)})
        getfile.form.submit_button.invoke()
        wait(app, lambda: not getfile.busy_tasks(), "the getfile download")
    assert getfile.mail_button.instate(["!disabled"])
    getfile.mail_button.invoke()
    wait(app, lambda: composes(app) and composes(app)[0].draft.attachments, "the attachment")
    assert [a.filename for a in composes(app)[0].draft.attachments] == ["hello.txt"]
    close_composes(app)

    page = LinksPage()
    try:
        web = fetch(app, page.url("/doc"))
        web._fill_send_menu()
        labels = menu_labels(web.send_menu)
        assert labels[:2] == ["Attach the body to a new mail", "Response head → New mail with it"]
        web.send_menu.invoke(0)
        wait(app, lambda: composes(app) and composes(app)[0].draft.attachments, "the body attached")
        attached = composes(app)[0].draft.attachments[0]
        assert attached.data == b'{"doc": true}\n' and attached.filename == "doc"
        close_composes(app)
        web.send_menu.invoke(1)
        wait(app, lambda: composes(app), "the head in a mail")
        window = composes(app)[0]
        body = window.body.get("1.0", "end-1c")
        assert body.startswith("HTTP/1.0 200 OK\n") and "Content-Type: application/json" in body
        close_composes(app)
    finally:
        page.stop()


def test_a_dns_table_goes_into_a_chat_window_and_a_mail(app, dnsmasq, ngircd):  # noqa: F811
    chat = app.show_tab("chat")
    chat.irc_form.set_values({"host": "127.0.0.1", "port": ngircd.port, "security": "No encryption",
                              "nick": "dnsfan", "channels": "#dns"})
    chat.irc_form.submit_button.invoke()
    wait(app, lambda: any(w.name == "#dns" and w.active for w in chat.view.windows.values()), "#dns")
    dns = app.show_tab("dns")
    dns.form.set_values({"name": "test", "rdtype": "MX", "server": f"127.0.0.1:{dnsmasq.port}"})
    dns.form.submit_button.invoke()
    wait(app, lambda: dns.result is not None and not dns.busy(), "the MX lookup")
    dns._fill_send_menu()
    labels = menu_labels(dns.send_menu)
    assert labels[0] == "New mail with it" and labels[1].startswith("Chat: #dns")
    dns.send_menu.invoke(1)
    assert shown_tab(app) == "chat"
    wait(app, lambda: "mail.test." in chat.view.shown_text(), "the table in #dns")
    assert "<dnsfan> ;" in chat.view.shown_text()  # dig's comment lines, as text
    app.show_tab("dns")
    dns.send_menu.invoke(0)
    wait(app, lambda: composes(app), "a compose window")
    window = composes(app)[0]
    assert window.form.get("subject") == "DNS: test MX"
    assert "10 mail.test." in window.body.get("1.0", "end-1c")
    close_composes(app)


def test_find_links_kinds_and_edges():
    text = ("(see https://example.org/a_(b).) mailto:x@y.test ftp://h.example/f sftp://h.example "
            "ircs://irc.example:6697/#c bob@example.com 192.0.2.7 [2001:db8::1] notes.txt setup.py "
            "www.example.co.uk 10:30:00 e.g. 999.1.1.1")
    found = [(link.kind, link.url) for _, _, link in find_links(text)]
    assert found == [("web", "https://example.org/a_(b)"), ("mail", "mailto:x@y.test"),
                     ("ftp", "ftp://h.example/f"), ("ftp", "sftp://h.example"),
                     ("chat", "ircs://irc.example:6697/#c"), ("mail", "mailto:bob@example.com"),
                     ("dns", "192.0.2.7"), ("dns", "2001:db8::1"), ("dns", "www.example.co.uk")]


def test_actions_for_each_kind(app):
    def labels(text):
        return [item[0] for item in handoff.actions(app, handoff.as_link(text)) if item]
    assert labels("https://h.example/x") == ["Open in Web", "Look up h.example in DNS",
                                            "Diagnose https://h.example/x", "Copy"]
    assert labels("192.0.2.1") == ["Look up in DNS", "Diagnose 192.0.2.1", "Copy"]
    assert labels("bob@example.org") == ["Write mail", "Look up example.org in DNS",
                                         "Diagnose mail for example.org", "Copy"]
    assert labels("irc://irc.example/#x") == ["Open in Chat", "Look up irc.example in DNS",
                                              "Diagnose irc://irc.example/", "Copy"]
