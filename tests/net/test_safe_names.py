"""safe_local_name / safe_join: remote names never escape the chosen folder."""

import os

import pytest

from netgui.net.safe_names import MAX_NAME_BYTES, safe_join, safe_local_name, tolerant_local_name


@pytest.mark.parametrize("remote, local", [
    ("report.pdf", "report.pdf"),
    ("dir/sub/report.pdf", "report.pdf"),
    ("/etc/passwd", "passwd"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\config", "config"),
    ("C:\\Users\\x\\evil.exe", "evil.exe"),
    ("C:evil.exe", "evil.exe"),
    ("trailing. . ", "trailing"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ('a<b>:"c|d?*.txt', "a_b___c_d__.txt"),
    ("  spaced name.txt ", "spaced name.txt"),
    ("ünïcødé.txt", "ünïcødé.txt"),
    ("invoice\u202etxt.exe", "invoice_txt.exe"),
])
def test_names_are_reduced_to_a_safe_base_name(remote, local):
    assert safe_local_name(remote) == local


@pytest.mark.parametrize("remote", ["", "   ", ".", "..", "a/..", "dir/", "/", "a\x00b", "evil\n.txt",
                                    "bell\x07", "esc\x1b[31m", "del\x7f", "x/.."])
def test_unusable_names_are_refused(remote):
    with pytest.raises(ValueError):
        safe_local_name(remote)


def test_long_names_are_shortened_keeping_the_extension():
    name = safe_local_name("x" * 400 + ".tar.gz")
    assert name.endswith(".gz") and len(name.encode()) <= MAX_NAME_BYTES
    multi = safe_local_name("é" * 300)
    assert len(multi.encode()) <= MAX_NAME_BYTES and set(multi) == {"é"}


@pytest.mark.parametrize("remote", ["../../x", "/abs/x", "C:\\x", "a/b/x", "..\\x", "x"])
def test_safe_join_stays_directly_inside_the_folder(tmp_path, remote):
    path = safe_join(tmp_path, remote)
    assert path == tmp_path / "x"
    assert os.path.dirname(os.path.realpath(path)) == os.path.realpath(tmp_path)


def test_safe_join_refuses_what_safe_local_name_refuses(tmp_path):
    with pytest.raises(ValueError):
        safe_join(tmp_path, "..")
    with pytest.raises(ValueError):
        safe_join(tmp_path, "a\x00")


def test_tolerant_names_never_refuse_and_hide_nothing():
    assert tolerant_local_name("../../etc/passwd", "attachment") == "passwd"
    assert tolerant_local_name("C:\\Windows\\x.exe", "attachment") == "x.exe"
    assert tolerant_local_name("..", "attachment") == "attachment"
    assert tolerant_local_name("CON.txt", "attachment") == "_CON.txt"
    assert tolerant_local_name("a\x00b\x1fc.txt", "attachment") == "abc.txt"
    assert len(tolerant_local_name("x" * 500 + ".pdf", "attachment").encode()) <= 200
    assert tolerant_local_name("bad\nname\x00.txt", "attachment") == "badname.txt"
    assert tolerant_local_name("../../.bashrc", "download") == "bashrc"
