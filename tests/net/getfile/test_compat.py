"""The compatibility matrix: netgui and original-style clients and servers, in every pairing."""

import os

import pytest

from netgui.net.getfile import client as getfile
from netgui.net.getfile.client import GetfileError, NotFoundOrEmpty, fetch, list_dir
from netgui.net.getfile.client import OriginalServer as NoExtension
from netgui.servers.getfile import GetfileServer
from tests.support.getfile_original import OriginalServer, original_fetch


@pytest.fixture(autouse=True)
def fresh_peer_memory():
    getfile.forget_peers()
    yield
    getfile.forget_peers()


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"hello, getfile\n")
    (root / "sub" / "data.bin").write_bytes(os.urandom(300_000))
    (root / "empty").write_bytes(b"")
    return root


@pytest.fixture
def dest(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    return dest


# netgui client <-> original-style server ------------------------------------------------

def test_netgui_client_falls_back_to_plain_request_with_an_original_server(root, dest):
    lines = []
    with OriginalServer(root) as server:
        result = fetch("127.0.0.1", server.port, "sub/data.bin", dest,
                       log=lambda d, t: lines.append((d, t)))
        # first the extended request (which the original cannot open), then the plain one
        assert server.requests[0].startswith(b"\x00NETGUI/1 GET 0 sub/data.bin")
        assert server.requests[1] == b"sub/data.bin\n"
    assert result.path == dest / "data.bin"
    assert result.path.read_bytes() == (root / "sub" / "data.bin").read_bytes()
    assert result.size == 300_000
    assert result.extended is False and result.verified is False
    assert not (dest / "data.bin.part").exists()
    assert any("original getfile server" in t for _, t in lines)


def test_original_server_is_remembered_for_the_session(root, dest):
    with OriginalServer(root) as server:
        fetch("127.0.0.1", server.port, "hello.txt", dest)
        fetch("127.0.0.1", server.port, "hello.txt", dest)
        assert len(server.requests) == 3  # probe + plain, then plain only
        assert server.requests[2] == b"hello.txt\n"
    assert getfile.is_known_original("127.0.0.1", server.port)


def test_empty_reply_from_an_original_server_is_not_found_or_empty(root, dest):
    with OriginalServer(root) as server:
        for name in ("missing.txt", "empty"):
            with pytest.raises(NotFoundOrEmpty) as info:
                fetch("127.0.0.1", server.port, name, dest)
            assert "not found or is empty" in str(info.value)
            assert not (dest / name).exists() and not (dest / f"{name}.part").exists()


def test_original_server_cannot_list_or_use_tls(root, dest):
    from netgui.net.connection import tls_context
    with OriginalServer(root) as server:
        with pytest.raises(NoExtension, match="cannot list"):
            list_dir("127.0.0.1", server.port, "")
        getfile.forget_peers()
        with pytest.raises(NoExtension, match="cannot use TLS"):
            fetch("127.0.0.1", server.port, "hello.txt", dest, tls=tls_context())
    assert not (dest / "hello.txt").exists()


def test_original_server_gets_the_path_it_would_have_got(root, dest, tmp_path):
    """Absolute paths go to an original server unchanged; the client keeps only the base name."""
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(b"the original server serves anything it can read")
    with OriginalServer(root) as server:
        result = fetch("127.0.0.1", server.port, str(outside), dest)
    assert result.path == dest / "elsewhere.txt"
    assert result.path.read_bytes() == outside.read_bytes()


# original-style client <-> netgui server ------------------------------------------------

def test_original_client_gets_files_from_the_netgui_server(root, dest):
    with GetfileServer(root) as server:
        local = original_fetch("127.0.0.1", server.port, "sub/data.bin", dest)
        assert open(local, "rb").read() == (root / "sub" / "data.bin").read_bytes()
        local = original_fetch("127.0.0.1", server.port, str(root / "hello.txt"), dest)
        assert open(local, "rb").read() == b"hello, getfile\n"


@pytest.mark.parametrize("request_path", ["missing.txt", "../outside.txt", "sub", "/etc/passwd"])
def test_original_client_sees_a_plain_close_on_errors(root, dest, tmp_path, request_path):
    (tmp_path / "outside.txt").write_bytes(b"secret")
    with GetfileServer(root) as server:
        local = original_fetch("127.0.0.1", server.port, request_path, dest)
    # exactly what an original server does: no bytes at all, no status line
    assert os.path.getsize(local) == 0


# netgui <-> netgui with the extension --------------------------------------------------

def test_netgui_pair_uses_the_extension(root, dest):
    seen = []
    with GetfileServer(root) as server:
        result = fetch("127.0.0.1", server.port, "sub/data.bin", dest,
                       progress=lambda done, total: seen.append((done, total)))
    assert result.extended and result.verified
    assert result.size == 300_000
    assert result.path.read_bytes() == (root / "sub" / "data.bin").read_bytes()
    assert seen[-1] == (300_000, 300_000)
    assert all(total == 300_000 for _, total in seen)
    assert not getfile.is_known_original("127.0.0.1", server.port)


def test_netgui_pair_fetches_an_empty_file_as_verified(root, dest):
    with GetfileServer(root) as server:
        result = fetch("127.0.0.1", server.port, "empty", dest)
    assert result.verified and result.size == 0 and (dest / "empty").read_bytes() == b""


@pytest.mark.parametrize("path, code, message", [
    ("missing.txt", "notfound", "No such file on the server: missing.txt"),
    ("../x", "outside", "../x is outside the served folder"),
    ("/etc/passwd", "outside", "/etc/passwd is outside the served folder"),
    ("sub", "isdir", "sub is a folder, not a file"),
])
def test_netgui_pair_reports_clear_errors(root, dest, path, code, message):
    with GetfileServer(root) as server:
        with pytest.raises(GetfileError) as info:
            fetch("127.0.0.1", server.port, path, dest)
    assert info.value.code == code
    assert str(info.value) == message
    assert list(dest.iterdir()) == []


def test_listing(root):
    with GetfileServer(root) as server:
        entries = list_dir("127.0.0.1", server.port, "")
        sub = list_dir("127.0.0.1", server.port, "sub")
        with pytest.raises(GetfileError, match="outside the served folder"):
            list_dir("127.0.0.1", server.port, "..")
        with pytest.raises(GetfileError, match="not a folder"):
            list_dir("127.0.0.1", server.port, "hello.txt")
    assert [(e.name, e.is_dir) for e in entries] == [("sub", True), ("empty", False),
                                                     ("hello.txt", False)]
    assert [(e.name, e.size) for e in sub] == [("data.bin", 300_000)]


def test_tls_through_starttls(root, dest, tmp_path):
    import ssl

    import trustme

    from netgui.net.connection import tls_context
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    with GetfileServer(root, tls=server_ctx) as server:
        result = fetch("127.0.0.1", server.port, "sub/data.bin", dest,
                       tls=tls_context(cafile=str(cafile)))
        assert result.tls and result.verified
        assert result.path.read_bytes() == (root / "sub" / "data.bin").read_bytes()
        assert [e.name for e in list_dir("127.0.0.1", server.port, "", tls=tls_context(cafile=str(cafile)))]
        # an untrusted certificate is a clear certificate error, and nothing is written
        from netgui.net.errors import CertificateError
        with pytest.raises(CertificateError):
            fetch("127.0.0.1", server.port, "hello.txt", dest, tls=tls_context())
        # original clients still get plain files from the same port
        local = original_fetch("127.0.0.1", server.port, "hello.txt", dest)
        assert open(local, "rb").read() == b"hello, getfile\n"


def test_tls_refused_by_a_server_without_a_certificate(root, dest):
    from netgui.net.connection import tls_context
    with GetfileServer(root) as server:
        with pytest.raises(GetfileError, match="does not offer TLS"):
            fetch("127.0.0.1", server.port, "hello.txt", dest, tls=tls_context())
