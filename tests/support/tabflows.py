"""Steps several GUI tests take through the real window."""

from __future__ import annotations

from tests.support.tk import pump


def ftp_download(app, server, local, name: str):
    """In the FTP tab: show ``local``, connect anonymously to ``server``, download ``name``
    into ``local``; returns the tab."""
    ftp = app.show_tab("ftp")
    ftp.local_go(str(local))
    pump(app.root, until=lambda: ftp.local_pane.path == str(local), timeout=15, message="the local pane")
    ftp.form.set_values({"host": "127.0.0.1", "port": server.port, "anonymous": True})
    ftp.form.submit_button.invoke()
    pump(app.root, until=lambda: ftp.remote_pane.entries and not ftp.remote_pane.filling, timeout=15,
         message="the FTP listing")
    ftp.remote_pane.select_names([name])
    ftp.download_selected()
    pump(app.root, until=lambda: (local / name).exists() and not ftp.item_tasks, timeout=15,
         message="the download")
    return ftp
