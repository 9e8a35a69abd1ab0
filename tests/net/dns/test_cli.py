"""``netgui dns`` on the command line, against the test dnsmasq."""

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
