"""The DNS tab in a real window: fill the Form, press buttons, read the tables."""

from __future__ import annotations

import csv

import pytest

from netgui.tabs import TabSpec
from tests.support.tk import pump

SPEC = [TabSpec("dns", "DNS", "netgui.tabs.dns", "DnsTab")]


@pytest.fixture
def tab(make_app):
    app = make_app(tabs=SPEC)
    return app.tab("dns")


def wait_idle(tab, task_attr="task", timeout=15, after=None):
    """Pump until the pane's task (a new one if ``after`` is given) has finished."""
    owner = tab if task_attr == "task" else getattr(tab, task_attr)
    pump(tab.app.root, until=lambda: owner.task is not None and owner.task is not after
         and not owner.task.running and owner.task.finished is not None,
         timeout=timeout, message="the DNS task to finish")


def run_query(tab, server, name, rdtype="A", **more):
    values = {"name": name, "rdtype": rdtype, "server": f"127.0.0.1:{server.port}"}
    values.update(more)
    tab.form.set_values(values)
    before = tab.task
    tab.form.submit_button.invoke()
    wait_idle(tab, after=before)


def test_lookup_fills_tables_flags_and_text(tab, dnsmasq):
    run_query(tab, dnsmasq, "a.test", "A")
    assert tab.tables["answer"].rows() == [("a.test.", "600", "IN", "A", "10.1.2.3")]
    assert [r[3] for r in tab.tables["authority"].rows()] == ["NS", "NS"]
    assert tab.rcode_label.cget("text") == "NOERROR"
    assert tab.flag_labels["AA"].cget("text") == "AA"      # set flags upper case
    assert tab.flag_labels["RA"].cget("text") == "ra"      # unset flags lower case, muted
    assert f"127.0.0.1#{dnsmasq.port}" in tab.info_label.cget("text")
    text = tab.text.get("1.0", "end")
    assert ";; ANSWER SECTION:" in text and "10.1.2.3" in text
    assert tab.form.status.cget("text").startswith("1 record in")
    assert tab.copy_text() == tab.app.root.clipboard_get()
    assert tab.tables["answer"].title_label.cget("text") == "Answer (1)"


def test_invalid_name_is_refused_inline(tab):
    tab.form.set_values({"name": "a..b", "rdtype": "A"})
    tab.form.submit_button.invoke()
    assert tab.task is None
    assert "empty label" in tab.form.message("name")
    tab.form.set_values({"name": "x" * 64 + ".test", "rdtype": "NOPE"})
    tab.form.submit_button.invoke()
    assert "at most 63" in tab.form.message("name")
    assert "Unknown record type" in tab.form.message("rdtype")
    tab.form.set_values({"name": "ok.test", "rdtype": "A", "server": "1.2.3.4:99999"})
    assert tab.form.submit() is False
    assert "port must be a number" in tab.form.message("server")


def test_nxdomain_and_truncation_messages(tab, dnsmasq):
    run_query(tab, dnsmasq, "missing.test")
    assert tab.form.status.cget("text") == (f"missing.test. does not exist (NXDOMAIN from "
                                            f"127.0.0.1#{dnsmasq.port})")
    assert tab.rcode_label.cget("text") == "NXDOMAIN"
    assert tab.tables["authority"].rows()[0][3] == "SOA"
    run_query(tab, dnsmasq, "big.test", "TXT")
    assert "after a truncated UDP reply" in tab.info_label.cget("text")
    assert "chunk07-" in tab.tables["answer"].rows()[0][4]


def test_reverse_lookup_and_clicking_names(tab, dnsmasq):
    run_query(tab, dnsmasq, "10.1.2.3", "A")
    assert tab.tables["answer"].rows() == [("3.2.1.10.in-addr.arpa.", "600", "IN", "PTR", "a.test.")]
    item = tab.tables["answer"].tree.get_children()[0]
    assert "link" in tab.tables["answer"].tree.item(item, "tags")
    before = tab.task
    assert tab.follow("answer", item)            # click the PTR target
    wait_idle(tab, after=before)
    assert tab.form.values()["name"] == "a.test."
    assert tab.tables["answer"].rows()[0][4] == "10.1.2.3"
    # a CNAME target is looked up with the same type; an MX target as A
    run_query(tab, dnsmasq, "c1.test", "A")
    item = tab.tables["answer"].tree.get_children()[0]
    assert tab.target_at("answer", item) == ("c2.test.", "A")
    before = tab.task
    tab.follow("answer", item)
    wait_idle(tab, after=before)
    assert [r[3] for r in tab.tables["answer"].rows()] == ["CNAME", "A"]
    run_query(tab, dnsmasq, "test", "MX")
    targets = {tab.target_at("answer", i) for i in tab.tables["answer"].tree.get_children()}
    assert targets == {("mail.test.", "A"), ("mx2.test.", "A")}


def test_click_on_data_cell_follows(tab, dnsmasq):
    run_query(tab, dnsmasq, "c2.test", "CNAME")
    tree = tab.tables["answer"].tree
    tab.pages.select(0)
    pump(tab.app.root, timeout=0.3)
    item = tree.get_children()[0]
    x, y, w, h = tree.bbox(item, "data")
    before = tab.task
    tree.event_generate("<ButtonRelease-1>", x=x + 5, y=y + h // 2)
    wait_idle(tab, after=before)
    assert tab.form.values()["name"] == "a.test."
    assert tab.tables["answer"].rows()[0][3] == "A"


@pytest.mark.parametrize("bad_server", ["garbage"], indirect=True)
def test_garbage_server_one_line(tab, bad_server):
    run_query(tab, bad_server, "a.test")
    status = tab.form.status.cget("text")
    assert status == f"127.0.0.1#{bad_server.port} sent a reply that is not valid DNS (34 bytes)"
    assert "Traceback" not in tab.transcript.contents()
    assert tab.history_entries()[0]["status"] == "error"


def test_history_and_saved_servers(tab, dnsmasq):
    run_query(tab, dnsmasq, "a.test", "A")
    run_query(tab, dnsmasq, "test", "MX")
    entries = tab.history_entries()
    assert [(e["name"], e["rdtype"], e["status"]) for e in entries[:2]] == [
        ("test", "MX", "NOERROR"), ("a.test", "A", "NOERROR")]
    assert tab.history.rows()[0][1:] == ("test", "MX", f"127.0.0.1:{dnsmasq.port}", "NOERROR")
    # double-click an older entry runs it again
    tree = tab.history.tree
    item = tree.get_children()[1]
    tree.selection_set(item)
    pump(tab.app.root, timeout=0.2)
    x, y, w, h = tree.bbox(item)
    before = tab.task
    for _ in range(2):  # a real double click: two presses in quick succession
        tree.event_generate("<ButtonPress-1>", x=x + 20, y=y + h // 2)
        tree.event_generate("<ButtonRelease-1>", x=x + 20, y=y + h // 2)
    wait_idle(tab, after=before)
    assert tab.tables["answer"].rows()[0][4] == "10.1.2.3"
    assert len(tab.history_entries()) == 3
    # saved servers are offered in the combobox and survive in settings
    tab.save_server()
    assert tab.app.settings.get("dns.servers") == [f"127.0.0.1:{dnsmasq.port}"]
    assert f"127.0.0.1:{dnsmasq.port}" in tab.form.widgets["server"].cget("values")
    tab.forget_server()
    assert tab.app.settings.get("dns.servers") == []


def test_bulk_pane(tab, dnsmasq, tmp_path):
    tab.form.set_values({"server": f"127.0.0.1:{dnsmasq.port}"})
    names = "\n".join(f"h{i}.test" for i in range(150)) + "\na.test A AAAA\ntest MX\nbad..name\n"
    source = tmp_path / "names.txt"
    source.write_text(names)
    assert tab.bulk.load(str(source)) == 153
    tab.bulk.run_button.invoke()
    wait_idle(tab, "bulk")
    pump(tab.app.root, until=lambda: not tab.bulk.pending, timeout=10, message="rows in the table")
    rows = tab.bulk.table.rows()
    assert len(rows) == 150 + 2 + 1 + 1
    by = {(r[0], r[1]): r for r in rows}
    assert by[("a.test", "A")][2:4] == ("NOERROR", "10.1.2.3")
    assert by[("a.test", "AAAA")][3] == "fd00::3"
    assert by[("bad..name", "A")][2] == "invalid"
    assert by[("h7.test", "A")][2] == "NXDOMAIN"
    assert tab.bulk.status.cget("text").startswith("154 done:")
    out = tmp_path / "out.csv"
    assert tab.bulk.export(str(out)) == 154
    parsed = list(csv.reader(out.open()))
    assert parsed[0][:3] == ["name", "type", "status"] and parsed[1][0] == "h0.test"
    assert not list(tmp_path.glob("*.tmp*"))


def test_compare_pane(tab, dnsmasq, dnsmasq2):
    tab.form.set_values({"name": "a.test", "rdtype": "A"})
    tab.compare.set_entry(f"127.0.0.1:{dnsmasq.port}\n127.0.0.1:{dnsmasq2.port}")
    tab.compare.run_button.invoke()
    wait_idle(tab, "compare")
    tree = tab.compare.table.tree
    headings = [tree.heading(c, "text") for c in tree["columns"]]
    assert headings[3:] == [f"127.0.0.1#{dnsmasq.port}", f"127.0.0.1#{dnsmasq2.port}"]
    rows = {r[2]: (r, tree.item(i, "tags")) for r, i in zip(tab.compare.table.rows(), tree.get_children())}
    assert rows["10.1.2.3"][0][3:] == ("TTL 600", "—") and "differ" in rows["10.1.2.3"][1]
    assert rows["10.1.2.4"][0][3] == "—" and "differ" in rows["10.1.2.4"][1]
    assert tab.compare.status.cget("text") == "2 differences between the servers"
    # agreeing servers: nothing highlighted
    tab.form.set_values({"name": "t.test", "rdtype": "TXT"})
    before = tab.compare.task
    tab.compare.run_button.invoke()
    wait_idle(tab, "compare", after=before)
    tags = [tab.compare.table.tree.item(i, "tags") for i in tab.compare.table.tree.get_children()]
    assert all("differ" not in t for t in tags)
    assert tab.compare.status.cget("text") == "All 2 servers agree"


def test_compare_needs_two_servers(tab, dnsmasq):
    tab.form.set_values({"name": "a.test", "rdtype": "A"})
    tab.compare.set_entry(f"127.0.0.1:{dnsmasq.port}")
    assert tab.compare.run() is False
    assert tab.compare.status.cget("text") == "List at least two servers to compare"


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_cancel_a_lookup(tab, bad_server):
    tab.form.set_values({"name": "a.test", "server": f"127.0.0.1:{bad_server.port}", "timeout": "30"})
    tab.form.submit_button.invoke()
    pump(tab.app.root, until=lambda: tab.form.busy, timeout=2)
    tab.cancel_button.invoke()
    wait_idle(tab, timeout=5)
    assert tab.task.state == "cancelled"
    assert not tab.form.busy


def test_dns_over_tls_in_the_form(tab, dnsmasq, dot_server, monkeypatch):
    tab.form.set_values({"transport": "DNS over TLS"})
    run_query(tab, dot_server, "a.test", "A")
    assert "not trusted" in tab.form.status.cget("text")    # unknown CA: refused, one line
    monkeypatch.setenv("NETGUI_CA_FILE", str(dot_server.ca_file))
    run_query(tab, dot_server, "a.test", "A")
    assert tab.tables["answer"].rows() == [("a.test.", "600", "IN", "A", "10.1.2.3")]
    assert " TLS " in tab.info_label.cget("text")


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_cancel_a_bulk_run(tab, bad_server):
    tab.form.set_values({"server": f"127.0.0.1:{bad_server.port}", "timeout": "30"})
    tab.bulk.set_entry("\n".join(f"n{i}.test" for i in range(40)))
    assert tab.bulk.run()
    pump(tab.app.root, until=lambda: bad_server.received >= 40, timeout=5, message="queries sent")
    assert tab.busy_tasks() == [tab.bulk.task]
    tab.bulk.cancel_button.invoke()
    wait_idle(tab, "bulk", timeout=5)
    assert tab.bulk.task.state == "cancelled"
    assert tab.bulk.status.cget("text") == "Cancelled (0 of 40 done)"
    assert "disabled" not in tab.bulk.run_button.state()
