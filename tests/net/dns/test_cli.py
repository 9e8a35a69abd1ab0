"""``netgui dns`` on the command line: dig-like text, bulk, --json, DoH, EDNS options, --trace and --validate."""

import json

from netgui.cli import main


def test_single_lookup_prints_dig_text(dnsmasq, capsys):
    assert main(["dns", f"@127.0.0.1:{dnsmasq.port}", "test", "MX"]) == 0
    out = capsys.readouterr().out
    assert ";; ANSWER SECTION:" in out and "10 mail.test." in out


def test_reverse_and_errors(dnsmasq, capsys):
    assert main(["dns", f"@127.0.0.1:{dnsmasq.port}", "-x", "10.1.2.3"]) == 0
    assert "PTR\ta.test." in capsys.readouterr().out
    assert main(["dns", f"@127.0.0.1:{dnsmasq.port}", "nope.test"]) == 1
    assert "status: NXDOMAIN" in capsys.readouterr().out
    assert main(["dns", "a..b"]) == 1
    assert capsys.readouterr().err.strip() == (
        "netgui dns: 'a..b' has an empty label (two dots in a row, or a leading dot)")


def test_bulk_csv(dnsmasq, capsys, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("a.test\nt.test TXT\n")
    assert main(["dns", f"@127.0.0.1:{dnsmasq.port}", "-f", str(names), "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "name,type,status,answers,ttl,ms,message"
    assert lines[1].startswith("a.test,A,NOERROR,10.1.2.3,600,")
    assert main(["dns", f"@127.0.0.1:{dnsmasq.port}", "-f", str(tmp_path / "none.txt")]) == 1
    assert capsys.readouterr().err.startswith("netgui dns: cannot read ")
    assert main(["dns", "-f", str(names), "--subnet", "nonsense"]) == 1
    assert "Client subnet 'nonsense'" in capsys.readouterr().err


def test_json_lookup_with_nsid(validating_resolver, capsys):
    assert main(["dns", f"@{validating_resolver.host}:{validating_resolver.port}",
                 "www.secure.test", "--nsid", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["message"]["answer"][0]["data"] == "192.0.2.1"
    assert {"option": "NSID", "ascii": "resolver"}.items() <= data["message"]["edns"]["options"][0].items()


def test_doh_from_the_command_line(doh_server, capsys, tmp_path):
    assert main(["dns", f"@{doh_server.ip_url}", "a.test", "--cafile", str(doh_server.ca_file),
                 "--get", "--http", "1.1"]) == 0
    out = capsys.readouterr().out
    assert "10.1.2.3" in out and "(HTTPS, HTTP/1.1)" in out
    names = tmp_path / "names"
    names.write_text("a.test\nmail.test\n")
    assert main(["dns", f"@{doh_server.ip_url}", "-f", str(names), "--cafile",
                 str(doh_server.ca_file), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["answers"] for r in rows] == ["10.1.2.3", "10.1.2.25"]


def test_trace_and_validate(dns_hierarchy, plain_resolver, capsys):
    assert main(["dns", "--trace", "--hints", str(dns_hierarchy.hints_file), "--port",
                 str(dns_hierarchy.port), "www.secure.test"]) == 0
    out = capsys.readouterr().out
    assert ";; Received" in out and "3 steps through 3 zones" in out
    assert main(["dns", f"@{plain_resolver.host}:{plain_resolver.port}", "www.expired.test",
                 "--validate", "--anchor", str(dns_hierarchy.anchor_file)]) == 1
    out = capsys.readouterr().out
    assert "validation failed: the signature on expired.test. DNSKEY expired 2020-02-01" in out
    assert main(["dns", f"@{plain_resolver.host}:{plain_resolver.port}", "www.insecure.test",
                 "--validate", "--json", "--anchor", str(dns_hierarchy.delv_anchor_file)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "insecure"
