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
    assert tab.bulk.status.cget("text").startswith("154 done over UDP:")
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


# -- DNS over HTTPS, EDNS options, extended errors, JSON ----------------------------------


def test_doh_server_in_the_form_bulk_and_compare(tab, dnsmasq, doh_server, monkeypatch):
    monkeypatch.setenv("NETGUI_CA_FILE", str(doh_server.ca_file))
    tab.form.set_values({"name": "a.test", "rdtype": "A", "server": doh_server.ip_url})
    assert tab.form.values()["transport"] == "DNS over HTTPS"     # shown as soon as typed
    tab.query_options.set(method="GET", http="1.1")
    before = tab.task
    tab.form.submit_button.invoke()
    wait_idle(tab, after=before)
    assert tab.tables["answer"].rows() == [("a.test.", "600", "IN", "A", "10.1.2.3")]
    assert f"{doh_server.ip_url} · HTTPS, HTTP/1.1 · " in tab.info_label.cget("text")
    assert "(HTTPS, HTTP/1.1)" in tab.form.status.cget("text")
    # Bulk over the same server
    tab.query_options.set(method="POST", http="auto")
    tab.bulk.set_entry("a.test\nmail.test\nnope.test\n")
    assert tab.bulk.run()
    wait_idle(tab, "bulk")
    pump(tab.app.root, until=lambda: not tab.bulk.pending, timeout=10, message="bulk rows")
    assert sorted(r[:4] for r in tab.bulk.table.rows()) == [
        ("a.test", "A", "NOERROR", "10.1.2.3"), ("mail.test", "A", "NOERROR", "10.1.2.25"),
        ("nope.test", "A", "NXDOMAIN", "")]
    assert tab.bulk.status.cget("text").startswith("3 done over HTTPS:")
    # Compare a DoH server with the plain one behind it
    tab.compare.set_entry(f"127.0.0.1:{dnsmasq.port}\n{doh_server.ip_url}")
    assert tab.compare.run()
    wait_idle(tab, "compare")
    status = tab.compare.table.rows()[0]
    assert status[3:] == ("NOERROR (UDP)", "NOERROR (HTTPS, HTTP/2)")
    assert tab.compare.status.cget("text") == "All 2 servers agree"


def test_doh_needs_a_url(tab):
    tab.form.set_values({"name": "a.test", "server": "127.0.0.1", "transport": "DNS over HTTPS"})
    before = tab.task
    tab.form.submit_button.invoke()
    assert tab.task is before
    assert tab.form.status.cget("text").startswith("DNS over HTTPS needs a URL")


def test_edns_options_nsid_and_extended_error(tab, validating_resolver):
    tab.query_options.set(nsid=True, cookie=True, subnet="192.0.2.0/24", padding="128",
                          payload="1400")
    server = f"{validating_resolver.host}:{validating_resolver.port}"
    tab.form.set_values({"name": "www.expired.test", "rdtype": "A", "server": server})
    before = tab.task
    tab.form.submit_button.invoke()
    wait_idle(tab, after=before)
    assert tab.rcode_label.cget("text") == "SERVFAIL"
    assert tab.ede_label.cget("text") == "EDE 7 Signature Expired"
    assert tab.info_label.cget("text").endswith(" · NSID resolver")
    assert ": Signature Expired (7): " in tab.form.status.cget("text")
    text = tab.text.get("1.0", "end")
    assert "; EDE: 7 (Signature Expired)" in text and '("resolver")' in text
    assert tab.result.request.payload == 1400 and len(tab.result.request.to_wire()) % 128 == 0
    assert "+nsid +cookie +subnet=192.0.2.0/24 +padding=128 +bufsize=1400" in \
        tab.transcript.contents()
    # the options are remembered, and a bad one is refused in place
    assert tab.app.settings.get("dns.options")["subnet"] == "192.0.2.0/24"
    tab.query_options.set(subnet="300.1.2.3/8")
    before = tab.task
    tab.form.submit_button.invoke()
    assert tab.task is before
    assert "Client subnet '300.1.2.3/8'" in tab.form.status.cget("text")


def test_copy_as_json(tab, validating_resolver):
    import json
    assert tab.copy_json() == ""
    server = f"{validating_resolver.host}:{validating_resolver.port}"
    tab.form.set_values({"name": "mail.secure.test", "rdtype": "MX", "server": server})
    before = tab.task
    tab.form.submit_button.invoke()
    wait_idle(tab, after=before)
    data = json.loads(tab.copy_json())
    assert data == json.loads(tab.app.root.clipboard_get())
    assert data["status"] == "NOERROR" and data["message"]["answer"][0]["data"] == \
        "10 www.secure.test."


# -- +trace ---------------------------------------------------------------------------


def run_trace(tab, hierarchy, name, rdtype="A"):
    tab.form.set_values({"name": name, "rdtype": rdtype})
    tab.trace.hints.set(str(hierarchy.hints_file))
    tab.trace.port.set(str(hierarchy.port))
    tab.pages.select(tab.trace)
    before = tab.trace.task
    tab.trace.run_button.invoke()
    wait_idle(tab, "trace", after=before)


def test_trace_tree(tab, dns_hierarchy):
    from tests.support.dnshierarchy import LEAF_ADDR, ROOT_ADDR, TLD_ADDR
    seen = []
    original = tab.trace.add_step
    tab.trace.add_step = lambda step: seen.append(step.zone) or original(step)
    run_trace(tab, dns_hierarchy, "www.glueless.test")
    port = dns_hierarchy.port
    steps = tab.trace.steps()
    assert [text for text, _ in steps] == [
        ".  referral to test.", "test.  referral to glueless.test.",
        "glueless.test.  answer (2 records)"]
    assert [values[0] for _, values in steps] == [
        f"a.root-servers.test. ({ROOT_ADDR}#{port})", f"ns.test. ({TLD_ADDR}#{port})",
        f"ns.glueless.alt. ({LEAF_ADDR}#{port})"]
    assert all(float(values[1]) >= 0 and int(values[2]) > 12 for _, values in steps)
    assert seen == [".", "test.", "glueless.test."]   # drawn as the steps came
    tld = tab.trace.children_text(1)
    assert tld[0] == f"servers of test.: ns.test. {TLD_ADDR}"
    assert any(line.startswith("no glue for ns.glueless.alt.: looked it up from the root")
               for line in tld)
    assert any(" DS " in line for line in tld)
    assert " — 3 steps through 3 zones in " in tab.trace.status.cget("text")
    assert tab.app.settings.get("dns.trace") == {"hints": str(dns_hierarchy.hints_file),
                                                 "port": port}
    import json
    assert [s["kind"] for s in json.loads(tab.copy_json())["steps"]] == [
        "referral", "referral", "answer"]
    assert tab.copy_text().startswith("; <<>> netgui <<>> +trace www.glueless.test. A")


def test_trace_errors_are_one_line(tab, dns_hierarchy, tmp_path):
    run_trace(tab, dns_hierarchy, "www.lame.test")
    assert tab.trace.status.cget("text").endswith(
        "stopped: no address found for any name server of lame.test.")
    bad = tmp_path / "hints"
    bad.write_text("this is not a zone\n")
    tab.trace.hints.set(str(bad))
    assert tab.trace.run()
    wait_idle(tab, "trace")
    assert tab.trace.status.cget("text").startswith("hints is not a root hints file")
    tab.trace.port.set("0")
    assert tab.trace.run() is False
    assert tab.trace.status.cget("text") == "The port must be a number from 1 to 65535"


@pytest.mark.parametrize("bad_server", ["silent"], indirect=True)
def test_cancel_a_trace(tab, bad_server, tmp_path):
    hints = tmp_path / "hints"
    hints.write_text(". 1 NS silent.test.\nsilent.test. 1 A 127.0.0.1\n")
    tab.form.set_values({"name": "a.test", "timeout": "30"})
    tab.trace.hints.set(str(hints))
    tab.trace.port.set(str(bad_server.port))
    assert tab.trace.run()
    pump(tab.app.root, until=lambda: bad_server.received >= 1, timeout=5, message="the query")
    tab.cancel_button.invoke()
    wait_idle(tab, "trace", timeout=5)
    assert tab.trace.task.state == "cancelled"
    assert "disabled" not in tab.trace.run_button.state()


# -- DNSSEC -----------------------------------------------------------------------------


def run_validation(tab, hierarchy, resolver, name, rdtype="A"):
    tab.form.set_values({"name": name, "rdtype": rdtype,
                         "server": f"{resolver.host}:{resolver.port}"})
    tab.dnssec.anchor.set(str(hierarchy.anchor_file))
    tab.pages.select(tab.dnssec)
    before = tab.dnssec.task
    tab.form.submit()                      # Return on the DNSSEC page validates
    wait_idle(tab, "dnssec", after=before)


def test_dnssec_secure_chain(tab, dns_hierarchy, plain_resolver):
    run_validation(tab, dns_hierarchy, plain_resolver, "www.secure.test")
    assert tab.dnssec.verdict.cget("text") == "SECURE"
    assert [row[:3] for row in tab.dnssec.rows()] == [
        (".", "trust anchor", "secure"), (".", "DS for test.", "secure"),
        ("test.", "DNSKEY", "secure"), ("test.", "DS for secure.test.", "secure"),
        ("secure.test.", "DNSKEY", "secure"), ("secure.test.", "www.secure.test. A", "secure"),
        ("www.secure.test.", "answer", "secure")]
    keys = dns_hierarchy.keys["secure.test."]
    tree = tab.dnssec.tree
    dnskey = tree.get_children()[4]
    lines = [tree.item(i, "values") for i in tree.get_children(dnskey)]
    assert (("DNSKEY", "", f"{keys.ksk_tag} KSK (ECDSAP256SHA256)") in
            [tuple(str(v) for v in line) for line in lines])
    assert any(str(line[0]) == "RRSIG" and " UTC to " in str(line[2]) for line in lines)
    assert tab.copy_text().startswith("; fully validated\nwww.secure.test.\t")


def test_dnssec_bogus_says_why_and_where(tab, dns_hierarchy, plain_resolver):
    run_validation(tab, dns_hierarchy, plain_resolver, "www.expired.test")
    assert tab.dnssec.verdict.cget("text") == "BOGUS"
    reason = tab.dnssec.reason.cget("text")
    assert reason.startswith("www.expired.test. A at expired.test.: the signature on "
                             "expired.test. DNSKEY expired 2020-02-01 00:00:00 UTC")
    selected = tab.dnssec.tree.selection()[0]
    assert tab.dnssec.tree.item(selected, "text") == "expired.test."
    assert tab.form.status.cget("text").startswith("www.expired.test. A: bogus at expired.test.")
    run_validation(tab, dns_hierarchy, plain_resolver, "www.insecure.test")
    assert tab.dnssec.verdict.cget("text") == "INSECURE"
    assert ("test.", "no DS for insecure.test.", "insecure") in [r[:3] for r in tab.dnssec.rows()]


def test_dnssec_anchor_file_errors(tab, dns_hierarchy, plain_resolver, tmp_path):
    anchor = tmp_path / "anchor"
    anchor.write_text(". IN A 192.0.2.1\n")
    tab.form.set_values({"name": "www.secure.test",
                         "server": f"{plain_resolver.host}:{plain_resolver.port}"})
    tab.dnssec.anchor.set(str(anchor))
    assert tab.dnssec.run()
    wait_idle(tab, "dnssec")
    assert tab.dnssec.reason.cget("text").startswith("A trust anchor is a DS or DNSKEY record")
    assert tab.dnssec.verdict.cget("text") == ""
    # the root's real anchor does not fit the private hierarchy: bogus at the root
    tab.dnssec.anchor.set("")
    assert tab.dnssec.run()
    wait_idle(tab, "dnssec")
    assert tab.dnssec.verdict.cget("text") == "BOGUS"
    assert " at .: the trust anchor has key tag 20326, 38696" in tab.dnssec.reason.cget("text")
