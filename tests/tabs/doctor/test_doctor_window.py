"""Diagnose on every tab's error line opens the Connection doctor on that connection; the doctor
window (Tools, Ctrl+Shift+D) shows each step and the verdict, against real peers."""

from __future__ import annotations

import pytest

from netgui.net.mail import accounts
from netgui.tabs.doctor import DoctorWindow
from tests.support.dns_fixtures import dnsmasq  # noqa: F401
from tests.support.dovecot import PASSWORD, dovecot, mailuser  # noqa: F401
from tests.support.httpapp import http_app  # noqa: F401
from tests.support.ngircd import Ngircd
from tests.support.peers import free_port
from tests.support.tk import pump


def wait(app, until, message, timeout=20):
    pump(app.root, until=until, timeout=timeout, message=message)


def doctor_of(app) -> DoctorWindow | None:
    return next((w for w in app.root.winfo_children() if isinstance(w, DoctorWindow) and w.winfo_exists()), None)


def diagnose_from(app, slot, target: str, layer: str = "tcp"):
    """Press the Diagnose button an error line offers; the doctor checks ``target``."""
    assert slot.offered == "Diagnose", "no Diagnose beside the error"
    app.root.update()
    assert slot.button.winfo_ismapped() and slot.button.winfo_width() > 20
    slot.button.invoke()
    wait(app, lambda: doctor_of(app) is not None and doctor_of(app).report is not None, "the diagnosis")
    doctor = doctor_of(app)
    assert doctor.form.get("target") == target
    broke = next(s for s in doctor.report.steps if s.status == "fail")
    assert broke.layer == layer, doctor.report.to_text()
    rows = [doctor.tree.item(r, "text") for r in doctor.tree.get_children()]
    assert rows[:2] == ["Name resolution", doctor.report.steps[1].title]
    assert doctor.verdict.cget("text").startswith("FAIL: ")
    doctor.destroy()
    return doctor


def test_ftp_error_line(app):
    port = free_port()
    ftp = app.show_tab("ftp")
    ftp.form.set_values({"host": "127.0.0.1", "port": port, "anonymous": True})
    ftp.form.submit_button.invoke()
    wait(app, lambda: ftp.client is None and not ftp.form.busy, "the refused connection")
    assert "refused" in ftp.form.status.cget("text")
    diagnose_from(app, ftp.form.status_action, f"ftp://127.0.0.1:{port}")


def test_web_error_line_expired_certificate(app, http_app, monkeypatch):  # noqa: F811
    monkeypatch.setenv("NETGUI_CA_FILE", http_app.ca_file)
    web = app.show_tab("web")
    url = f"https://localhost:{http_app.port('expired')}/"
    web.form.set_values({"url": url})
    web.form.submit_button.invoke()
    wait(app, lambda: not web.form.busy and web.last_error is not None, "the TLS failure")
    doctor = diagnose_from(app, web.summary_action, f"https://localhost:{http_app.port('expired')}",
                           layer="tls")
    assert "expired" in doctor.report.verdict.message.lower()


def test_chat_error_line(app):
    port = free_port()
    chat = app.show_tab("chat")
    chat.irc_form.set_values({"host": "127.0.0.1", "port": port, "security": "No encryption", "nick": "x"})
    chat.irc_form.submit_button.invoke()
    wait(app, lambda: not chat.irc_form.busy and "refused" in chat.irc_form.status.cget("text"), "refused")
    diagnose_from(app, chat.irc_form.status_action, f"irc://127.0.0.1:{port}")


def test_dns_error_line(app):
    port = free_port()
    dns = app.show_tab("dns")
    dns.form.set_values({"name": "a.test", "server": f"127.0.0.1:{port}", "timeout": 1,
                         "transport": next(t for t in dns.form.fields["transport"].choices if "TCP" in t)})
    dns.form.submit_button.invoke()
    wait(app, lambda: not dns.busy() and dns.form.status_action.offered, "the DNS failure")
    diagnose_from(app, dns.form.status_action, f"dns://127.0.0.1:{port}")


def test_getfile_error_line(app):
    port = free_port()
    getfile = app.show_tab("getfile")
    getfile.form.set_values({"host": "127.0.0.1", "port": port, "file": "x.txt"})
    getfile.form.submit_button.invoke()
    wait(app, lambda: not getfile.busy_tasks(), "the failed download")
    diagnose_from(app, getfile.form.status_action, f"getfile://127.0.0.1:{port}")


def test_mail_error_line(app):
    port = free_port()
    accounts.save_account(app.settings, app.secrets, "Gone", {
        "display_name": "Bob", "email": "bob@example.org", "incoming_protocol": "imap",
        "incoming_host": "127.0.0.1", "incoming_port": port, "incoming_security": "tls",
        "incoming_user": "bob", "smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_security": "none"},
        incoming_password=PASSWORD)
    mail = app.show_tab("mail")
    mail.reload_accounts()
    wait(app, lambda: mail.status_action.offered and not mail.busy_tasks(), "the refused account")
    diagnose_from(app, mail.status_action, f"imaps://127.0.0.1:{port}")


def test_doctor_from_the_tools_menu_checks_every_layer(app, tmp_path):
    server = Ngircd(tmp_path / "ngircd").start()
    try:
        app.notebook.event_generate("<Control-Key-D>")  # Ctrl+Shift+D
        wait(app, lambda: doctor_of(app) is not None, "the doctor window")
        doctor = doctor_of(app)
        doctor.form.set_values({"target": f"irc://127.0.0.1:{server.port}"})
        doctor.form.submit_button.invoke()
        wait(app, lambda: doctor.report is not None, "the diagnosis")
    finally:
        server.stop()
    assert doctor.report.verdict.status == "ok"
    rows = [(doctor.tree.item(r, "text"), doctor.tree.item(r, "values")[0]) for r in doctor.tree.get_children()]
    assert rows == [("Name resolution", "INFO"), (f"TCP to 127.0.0.1:{server.port} (IPv4)", "OK"),
                    ("IRC greeting", "OK")]
    assert doctor.verdict.cget("text").startswith("OK: Every layer works")
    assert app.settings.get("doctor.recent")[0] == f"irc://127.0.0.1:{server.port}"
    assert "Verdict: OK" in doctor.report_text()
    doctor.lookup_button.invoke()
    assert app.current_tab_key() == "dns" and app.tabs["dns"].form.get("name") == "127.0.0.1"
    assert app.timeline.flush()
    lines = app.timeline.search("tab:doctor NICK")
    assert lines and lines[0].item == f"irc://127.0.0.1:{server.port}"


@pytest.mark.parametrize("size", ["800x600", "1920x1080"])
def test_doctor_window_fits(app, size):
    from netgui.tabs.doctor import open_doctor
    doctor = open_doctor(app, "127.0.0.1:9", run=False)
    doctor.geometry(size)
    pump(app.root, timeout=0.3)
    assert doctor.form.submit_button.winfo_ismapped() and doctor.copy_button.winfo_ismapped()
