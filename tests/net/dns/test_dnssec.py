"""DNSSEC validation against the private hierarchy: our verdicts, reasons and places, and
delv's for the same names (delv asks a non-validating unbound, as netgui does with CD)."""

from __future__ import annotations

import json

import dns.name
import dns.rdatatype
import pytest

from netgui.net.dns import DnsInputError
from netgui.net.dns.dnssec import ROOT_DS, load_anchors, validate
from tests.support.dnshierarchy import EXPECTED, delv


def check(h, resolver, name, rdtype="A", **kw):
    return validate(name, rdtype, resolver.address, anchors=h.anchor_file, timeout=3, **kw)


@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_verdicts_match_expectations_and_delv(dns_hierarchy, plain_resolver, zone):
    result = check(dns_hierarchy, plain_resolver, f"www.{zone}")
    assert result.verdict == EXPECTED[zone], result.to_text()
    theirs = delv(dns_hierarchy, plain_resolver, f"www.{zone}")
    delv_verdict = ("secure" if "; fully validated" in theirs else
                    "insecure" if "; unsigned answer" in theirs else "bogus")
    assert delv_verdict == result.verdict, theirs


def test_secure_chain_view(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.secure.test")
    assert [(link.zone, link.what, link.status) for link in result.chain] == [
        (".", "trust anchor", "secure"), (".", "DS for test.", "secure"),
        ("test.", "DNSKEY", "secure"), ("test.", "DS for secure.test.", "secure"),
        ("secure.test.", "DNSKEY", "secure"), ("secure.test.", "www.secure.test. A", "secure")]
    keys = dns_hierarchy.keys["secure.test."]
    assert any(f"DNSKEY {keys.ksk_tag} KSK" in r for r in result.chain[4].records)
    assert result.answer[0].data == "192.0.2.1"
    assert result.summary().startswith("www.secure.test. A: fully validated")
    assert "; fully validated" in result.to_text()


def test_insecure_delegation_proved_by_nsec3(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.insecure.test")
    assert result.verdict == "insecure" and result.where == "insecure.test."
    link = [l for l in result.chain if l.what == "no DS for insecure.test."][0]
    assert link.zone == "test." and "NSEC3" in link.detail and link.records


def test_tampered_record_is_bogus_with_why(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.bogus.test")
    assert result.verdict == "bogus" and result.where == "bogus.test."
    assert "does not verify" in result.reason and "www.bogus.test. A" in result.reason
    assert result.answer[0].data == "192.0.2.66"
    # the rest of the zone is fine
    assert check(dns_hierarchy, plain_resolver, "txt.bogus.test", "TXT").verdict == "secure"


def test_expired_signatures_say_when(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.expired.test")
    assert result.verdict == "bogus" and result.where == "expired.test."
    assert "expired 2020-02-01 00:00:00 UTC" in result.reason
    assert "valid from 2020-01-01 00:00:00 UTC to 2020-02-01 00:00:00 UTC" in result.reason
    # back then the expired zone's signatures were fine, but the root's were not made yet
    then = 1578700800  # 2020-01-11
    early = check(dns_hierarchy, plain_resolver, "www.expired.test", now=then)
    assert early.verdict == "bogus" and early.where == "." and "not valid before" in early.reason


def test_ds_key_tag_that_matches_nothing(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.badds.test")
    assert result.verdict == "bogus" and result.where == "badds.test."
    assert f"key tag {dns_hierarchy.orphan_tag}, which matches no DNSKEY of badds.test." in result.reason
    keys = dns_hierarchy.keys["badds.test."]
    assert f"{keys.ksk_tag} KSK" in result.reason and f"{keys.zsk_tag} ZSK" in result.reason


def test_denials(dns_hierarchy, plain_resolver):
    nx = check(dns_hierarchy, plain_resolver, "nothere.secure.test")
    assert nx.rcode == "NXDOMAIN" and nx.verdict == "secure", nx.to_text()
    assert "NSEC" in nx.reason
    nodata = check(dns_hierarchy, plain_resolver, "txt.secure.test", "MX")
    assert nodata.verdict == "secure" and "NSEC at txt.secure.test." in nodata.reason
    nx3 = check(dns_hierarchy, plain_resolver, "nothere.test")
    assert nx3.verdict == "secure" and "closest encloser test." in nx3.reason
    nodata3 = check(dns_hierarchy, plain_resolver, "www.test", "TXT")
    assert nodata3.verdict == "secure" and "NSEC3 for www.test." in nodata3.reason


def test_cname_across_zones(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "alias.test")
    assert result.verdict == "secure"
    assert [l.what for l in result.chain if l.what.endswith((" CNAME", " A"))] == [
        "alias.test. CNAME", "www.secure.test. A"]


def test_wrong_anchor_and_no_anchor(dns_hierarchy, plain_resolver):
    real_root = check(dns_hierarchy, plain_resolver, "www.secure.test").chain[0]
    assert real_root.status == "secure"
    wrong = validate("www.secure.test", "A", plain_resolver.address, anchors=ROOT_DS, timeout=3)
    assert wrong.verdict == "bogus" and wrong.where == "."
    assert "key tag 20326, 38696, which matches no DNSKEY of ." in wrong.reason
    elsewhere = validate("www.secure.test", "A", plain_resolver.address, timeout=3,
                         anchors=". IN DS 1 13 2 " + "00" * 32 + "\n".replace(". IN", "other. IN"))
    assert elsewhere.verdict in ("bogus", "indeterminate")


def test_anchor_formats(dns_hierarchy):
    from_ds = load_anchors(dns_hierarchy.anchor_file)
    from_delv = load_anchors(dns_hierarchy.delv_anchor_file)
    assert from_ds == from_delv and len(from_ds[next(iter(from_ds))]) >= 1
    assert {ds.key_tag for ds in load_anchors(ROOT_DS)[next(iter(load_anchors(ROOT_DS)))]} == {20326, 38696}
    for bad in ("nothing here\n", ". IN A 192.0.2.1\n"):
        with pytest.raises(DnsInputError):
            load_anchors(bad)


def test_validation_json(dns_hierarchy, plain_resolver):
    data = json.loads(json.dumps(check(dns_hierarchy, plain_resolver, "www.expired.test").to_dict()))
    assert data["verdict"] == "bogus" and data["where"] == "expired.test."
    assert data["chain"][-1]["status"] == "bogus"


def test_wildcard_answers_need_their_proof(dns_hierarchy, plain_resolver):
    nsec = check(dns_hierarchy, plain_resolver, "anything.wild.secure.test")
    assert nsec.verdict == "secure", nsec.to_text()
    assert "from the wildcard *.wild.secure.test." in nsec.reason
    assert "proves anything.wild.secure.test. does not exist" in nsec.reason
    nsec3 = check(dns_hierarchy, plain_resolver, "a.b.wild.test")
    assert nsec3.verdict == "secure", nsec3.to_text()
    assert "from the wildcard *.wild.test.; NSEC3" in nsec3.reason
    assert "proves b.wild.test. does not exist" in nsec3.reason   # the next closer name
    # the wildcard has A and TXT but no MX: NODATA proved at the wildcard
    nodata = check(dns_hierarchy, plain_resolver, "x.wild.secure.test", "MX")
    assert nodata.verdict == "secure", nodata.to_text()
    assert "the wildcard *.wild.secure.test. lists only A NSEC RRSIG TXT" in nodata.reason


def test_wildcard_answer_without_its_proof_is_bogus(dns_hierarchy, plain_resolver):
    # a resolver that drops the NSEC proving the name does not exist (a replay of another
    # name's wildcard answer would look like this)
    from netgui.net.dns.dnssec import Validator, load_anchors
    from netgui.net.dns.lookup import query, question_for

    def fetch(name, rdtype):
        message = query(name.to_text(), rdtype, plain_resolver.address, do=True, cd=True,
                        timeout=3).message
        message.authority = [rr for rr in message.authority
                             if rr.rdtype != dns.rdatatype.NSEC or not name.is_subdomain(
                                 dns.name.from_text("wild.secure.test"))]
        return message

    qname, qtype, _ = question_for("anything.wild.secure.test", "A")
    result = Validator(fetch, load_anchors(dns_hierarchy.anchor_file)).validate(qname, qtype)
    assert result.verdict == "bogus" and result.where == "secure.test."
    assert result.reason == ("anything.wild.secure.test. came from the wildcard "
                             "*.wild.secure.test., but secure.test. sent no NSEC or NSEC3 records")


def test_nxdomain_proves_there_is_no_wildcard(dns_hierarchy, plain_resolver):
    nsec = check(dns_hierarchy, plain_resolver, "nothere.secure.test")
    assert "and no wildcard *.secure.test.: no such name" in nsec.reason
    nsec3 = check(dns_hierarchy, plain_resolver, "nothere.test")
    assert "and no wildcard *.test.: no such name" in nsec3.reason


def test_unsupported_algorithm_is_insecure(dns_hierarchy, plain_resolver):
    result = check(dns_hierarchy, plain_resolver, "www.unsupported.test")
    assert result.verdict == "insecure" and result.where == "unsupported.test."
    assert result.reason == ("the DS in test. for unsupported.test. uses only ECCGOST (12), "
                             "GOST R 34.11-94 (3), which netgui cannot check: treated as "
                             "unsigned (RFC 4035 5.2)")
    link = [l for l in result.chain if l.what == "unsupported algorithm"][0]
    assert link.status == "insecure" and link.records == [
        "DS 4242 (ECCGOST (12), GOST R 34.11-94 (3))"]
