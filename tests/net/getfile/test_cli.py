"""`python -m netgui getfile serve|fetch` end to end."""

import subprocess
import sys

from netgui.cli import main
from netgui.net.getfile import client as getfile
from netgui.servers.getfile import GetfileServer
from tests.support.peers import free_port, stop_process, wait_for_port


def test_fetch_command(tmp_path, capsys):
    getfile.forget_peers()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "a.txt").write_bytes(b"via the command line")
    with GetfileServer(tmp_path / "root") as server:
        code = main(["getfile", "fetch", "--host", "127.0.0.1", "--port", str(server.port),
                     "--file", "a.txt", "--dest", str(tmp_path / "out")])
        assert code == 0
        assert (tmp_path / "out" / "a.txt").read_bytes() == b"via the command line"
        assert "size verified" in capsys.readouterr().out
        code = main(["getfile", "fetch", "--host", "127.0.0.1", "--port", str(server.port),
                     "--file", "nope.txt", "--dest", str(tmp_path / "out"), "--quiet"])
    assert code == 1
    assert "No such file on the server: nope.txt" in capsys.readouterr().err


def test_serve_command_serves_original_clients_and_logs(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"served")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netgui", "getfile", "serve", "--root", str(tmp_path),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc)
        from tests.support.getfile_original import original_fetch
        (tmp_path / "out").mkdir()
        local = original_fetch("127.0.0.1", port, "f.txt", tmp_path / "out")
        assert open(local, "rb").read() == b"served"
    finally:
        stop_process(proc)
    out = proc.stdout.read().decode()
    assert f"on 127.0.0.1:{port}" in out
    assert '"f.txt" 6 of 6 bytes' in out


def test_serve_refuses_a_missing_root(tmp_path, capsys):
    assert main(["getfile", "serve", "--root", str(tmp_path / "missing"), "--port", "0"]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_fetch_over_tls_from_the_cli(tmp_path, capsys):
    import trustme

    from netgui.servers.getfile import server_tls_context
    getfile.forget_peers()
    ca = trustme.CA()
    chain = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(chain))
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "s.txt").write_bytes(b"secret-ish")
    with GetfileServer(tmp_path / "root", tls=server_tls_context(chain)) as server:
        args = ["getfile", "fetch", "--host", "127.0.0.1", "--port", str(server.port), "--file",
                "s.txt", "--dest", str(tmp_path / "out"), "--tls"]
        assert main(args + ["--cafile", str(cafile)]) == 0
        assert (tmp_path / "out" / "s.txt").read_bytes() == b"secret-ish"
        capsys.readouterr()
        assert main(args + ["--quiet"]) == 1  # the test CA is not trusted by default
    assert "not trusted" in capsys.readouterr().err


def test_serve_refuses_an_unusable_certificate(tmp_path, capsys):
    bad = tmp_path / "bad.pem"
    bad.write_text("nope")
    assert main(["getfile", "serve", "--root", str(tmp_path), "--port", "0", "--tls-cert", str(bad)]) == 1
    assert "Cannot use the certificate" in capsys.readouterr().err
