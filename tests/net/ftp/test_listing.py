"""Listing lines as servers send them (Unix ``ls -l``, DOS/IIS, MLSD) and name encodings."""

from __future__ import annotations

import pytest

from netgui.net.errors import LocalFileError
from netgui.net.ftp.client import local_child, safe_local_name
from netgui.net.ftp.listing import (
    DIR,
    FILE,
    LINK,
    display_name,
    parse_list_line,
    parse_listing,
    parse_mlsd_line,
)


def test_unix_lines_with_spaces_links_and_unicode():
    e = parse_list_line("-rw-r--r--   1 owner    group     1234 Jan 15 10:20 my file  name.txt")
    assert (e.name, e.kind, e.size, e.perms) == ("my file  name.txt", FILE, 1234, "-rw-r--r--")
    e = parse_list_line("lrwxrwxrwx 1 u g 7 Jan 15  2020 link -> target dir")
    assert (e.name, e.kind, e.target) == ("link", LINK, "target dir")
    e = parse_list_line("drwxr-xr-x 2 u g 4096 Mar  3 12:00 Ordner ü")
    assert (e.name, e.kind, e.size) == ("Ordner ü", DIR, None)
    assert parse_list_line("total 48") is None
    assert parse_list_line("drwxr-xr-x 2 u g 4096 Mar  3 12:00 ..") is None


def test_dos_lines():
    e = parse_list_line("01-15-20  10:20AM       <DIR>          My Documents")
    assert (e.name, e.kind) == ("My Documents", DIR)
    e = parse_list_line("12-31-19  11:59PM            12345 report final.txt")
    assert (e.name, e.kind, e.size) == ("report final.txt", FILE, 12345)
    assert e.modified is not None


def test_mlsd_lines_and_junk():
    e = parse_mlsd_line("type=file;size=42;modify=20240102030405;UNIX.mode=0644; a b.txt")
    assert (e.name, e.kind, e.size, e.perms) == ("a b.txt", FILE, 42, "-rw-r--r--")
    assert e.modified_text().startswith("2024-01-0")
    assert parse_mlsd_line("type=cdir;modify=20240102030405; /x") is None
    entries, bad = parse_listing(["type=dir;modify=20240102030405; sub", "garbage without facts",
                                  "type=pdir; .."], mlsd=True)
    assert [e.name for e in entries] == ["sub"] and bad == ["garbage without facts"]


def test_names_are_made_safe_to_show_and_store(tmp_path):
    assert display_name("ok name.txt") == "ok name.txt"
    assert "\x1b" not in display_name("esc\x1b[31m.txt")
    assert safe_local_name("..\\..\\evil.txt") == "evil.txt"
    assert safe_local_name("../../etc/passwd") == "passwd"
    assert safe_local_name("C:\\Windows\\x.dll") == "x.dll"
    assert safe_local_name("C:drive.txt") == "drive.txt"
    folder = tmp_path / "in"
    assert local_child(folder, "../../x.txt") == folder / "x.txt"
    for bad in ("..", "", "a\x00b", "esc\x1b[31m.txt", "tab\tname"):
        with pytest.raises(LocalFileError) as info:
            local_child(folder, bad)
        assert str(info.value).startswith("Refusing the remote name")
