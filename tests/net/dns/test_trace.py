"""+trace against the private hierarchy (NSD on 127.0.0.2-4, one shared port)."""

from __future__ import annotations

import json

import pytest

from netgui.net.cancel import CancelToken
from netgui.net.dns import DnsInputError
from netgui.net.dns.trace import BUILTIN_ROOTS, load_hints, trace
from netgui.net.errors import Cancelled
from tests.support.dnshierarchy import LEAF_ADDR, ROOT_ADDR, TLD_ADDR


def run(h, name, rdtype="A", **kw):
    return trace(name, rdtype, hints=h.hints_file, port=h.port, timeout=2, **kw)


def test_trace_walks_root_tld_leaf(dns_hierarchy):
    steps_seen = []
    result = run(dns_hierarchy, "www.secure.test", on_step=steps_seen.append)
    assert [(s.zone, s.kind) for s in result.steps] == [
        (".", "referral"), ("test.", "referral"), ("secure.test.", "answer")]
    assert steps_seen == result.steps
    root, tld, leaf = result.steps
    assert root.servers == [("a.root-servers.test.", ROOT_ADDR)]
    assert root.server == f"a.root-servers.test. ({ROOT_ADDR}#{dns_hierarchy.port})"
    assert root.next_zone == "test." and ("ns.test.", "IN", "A", TLD_ADDR) in [
        (g.name, g.rdclass, g.rdtype, g.data) for g in root.glue]
    assert any(r.rdtype == "DS" for r in root.records)      # the signed delegation
    assert tld.servers == [("ns.test.", TLD_ADDR)]
    assert leaf.servers == [("ns.secure.test.", LEAF_ADDR)]
    assert [r.data for r in leaf.records if r.rdtype == "A"] == ["192.0.2.1"]
    assert all(s.elapsed_ms >= 0 and s.size > 12 for s in result.steps)
    assert result.outcome == "answer" and result.error is None
    assert "3 steps through 3 zones" in result.summary()


def test_trace_insecure_delegation_has_no_ds(dns_hierarchy):
    result = run(dns_hierarchy, "www.insecure.test", do=True)
    tld = result.steps[1]
    assert tld.kind == "referral" and not any(r.rdtype == "DS" for r in tld.records)
    assert any(r.rdtype == "NSEC3" for r in tld.records)     # the proof there is no DS


def test_trace_follows_cname_from_the_root(dns_hierarchy):
    result = run(dns_hierarchy, "alias.test")
    kinds = [(s.zone, s.qname, s.kind) for s in result.steps]
    assert kinds[:2] == [(".", "alias.test.", "referral"), ("test.", "alias.test.", "cname")]
    assert kinds[2:] == [(".", "www.secure.test.", "referral"), ("test.", "www.secure.test.", "referral"),
                         ("secure.test.", "www.secure.test.", "answer")]
    assert result.steps[1].next_name == "www.secure.test."
    assert [r.data for r in result.answer if r.rdtype == "A"] == ["192.0.2.1"]
    cname_only = run(dns_hierarchy, "alias.test", follow_cnames=False)
    assert cname_only.outcome == "cname" and len(cname_only.steps) == 2


def test_trace_nxdomain_and_nodata(dns_hierarchy):
    nx = run(dns_hierarchy, "nothere.secure.test")
    assert nx.outcome == "nxdomain" and nx.steps[-1].zone == "secure.test."
    assert "does not exist (NXDOMAIN)" in nx.summary()
    nodata = run(dns_hierarchy, "txt.secure.test", "MX")
    assert nodata.outcome == "nodata"


def test_trace_tree_text_and_json(dns_hierarchy):
    result = run(dns_hierarchy, "www.secure.test")
    tree = result.tree()
    assert tree["text"] == "www.secure.test. A"
    level = tree["children"][0]
    assert level["zone"] == "." and level["text"].startswith(". via a.root-servers.test.")
    glue = [c for c in level["children"] if c["kind"] == "glue"]
    assert glue[0]["text"].startswith("ns.test.") and level["children"][-1]["kind"] == "referral"
    depth, node = 0, tree
    while [c for c in node["children"] if c["kind"] in ("referral", "answer")]:
        node = [c for c in node["children"] if c["kind"] in ("referral", "answer")][0]
        depth += 1
    assert depth == 3 and node["kind"] == "answer"
    text = result.to_text()
    assert ";; Received" in text and f"from a.root-servers.test. ({ROOT_ADDR}#" in text
    data = json.loads(json.dumps(result.to_dict()))
    assert [s["kind"] for s in data["steps"]] == ["referral", "referral", "answer"]


def test_dead_server_is_reported_and_skipped(dns_hierarchy, tmp_path):
    hints = tmp_path / "hints"
    hints.write_text(". 3600 NS dead.root.\n. 3600 NS a.root-servers.test.\n"
                     "dead.root. 3600 A 127.0.0.99\n"
                     f"a.root-servers.test. 3600 A {ROOT_ADDR}\n")
    result = trace("www.secure.test", hints=hints, port=dns_hierarchy.port, timeout=1)
    assert result.outcome == "answer"
    assert result.steps[0].failures and "127.0.0.99" in result.steps[0].failures[0]
    only_dead = tmp_path / "dead"
    only_dead.write_text(". 3600 NS dead.root.\ndead.root. 3600 A 127.0.0.99\n")
    stuck = trace("www.secure.test", hints=only_dead, port=dns_hierarchy.port, timeout=1)
    assert stuck.outcome == "error" and stuck.error.startswith("no server of . answered")


def test_hints_files():
    assert load_hints(". 1 NS a.x.\na.x. 1 A 192.0.2.1\na.x. 1 AAAA 2001:db8::1\n") == [
        ("a.x.", "192.0.2.1")]
    assert ("a.x.", "2001:db8::1") in load_hints(". 1 NS a.x.\na.x. 1 AAAA 2001:db8::1\n"
                                                 "a.x. 1 A 192.0.2.1\n", ipv6=True)
    assert len(BUILTIN_ROOTS) == 13
    default = load_hints()
    assert ("a.root-servers.net.", "198.41.0.4") in default
    for bad in ("not a zone !!\n", "x. 1 A 192.0.2.1\n", ". 1 NS a.x.\n"):
        with pytest.raises(DnsInputError):
            load_hints(bad)


def test_trace_cancel(dns_hierarchy):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run(dns_hierarchy, "www.secure.test", token=token)


def test_glueless_name_server_is_looked_up_from_the_root(dns_hierarchy):
    result = run(dns_hierarchy, "www.glueless.test")
    assert [(s.zone, s.kind) for s in result.steps] == [
        (".", "referral"), ("test.", "referral"), ("glueless.test.", "answer")]
    tld = result.steps[1]
    assert tld.glue == [] and [r.data for r in tld.records if r.rdtype == "NS"] == [
        "ns.glueless.alt."]
    assert len(tld.notes) == 1 and tld.notes[0].startswith(
        "no glue for ns.glueless.alt.: looked it up from the root in ")
    assert tld.notes[0].endswith(f" → {LEAF_ADDR}")
    assert result.steps[2].servers == [("ns.glueless.alt.", LEAF_ADDR)]
    assert {"text": tld.notes[0], "kind": "note", "children": []} in \
        result.tree()["children"][0]["children"][-1]["children"]
    assert f";; {tld.notes[0]}" in result.to_text()
    # a name server whose name does not exist ends the trace with the reason
    lame = run(dns_hierarchy, "www.lame.test")
    assert lame.outcome == "error"
    assert lame.error == "no address found for any name server of lame.test."
    (note,) = lame.steps[-1].notes
    assert note.startswith("no glue for ns.nowhere.alt.: looked it up from the root in ")
    assert note.endswith(" → ns.nowhere.alt. does not exist (NXDOMAIN)")
