"""known_hosts reading, matching and writing (hostkeys.py), without a server."""

from __future__ import annotations

import stat

import asyncssh
import pytest

from netgui.net.ftp.hostkeys import (KNOWN, UNKNOWN, HostKeyChanged, HostKeyRevoked, KnownHosts, hashed_name,
                                     host_label, parse_known_hosts)


def key_text(key) -> str:
    return " ".join(key.export_public_key().decode().split()[:2])


@pytest.fixture(scope="module")
def keys():
    return [asyncssh.generate_private_key("ssh-ed25519") for _ in range(3)]


def test_labels_follow_openssh():
    assert host_label("example.org", 22) == "example.org"
    assert host_label("example.org", 2222) == "[example.org]:2222"


def test_bad_lines_are_skipped_not_fatal(tmp_path, keys):
    text = "\n".join(["# comment", "", "garbage", "@weird host ssh-ed25519 AAAA",
                      "host ssh-ed25519 not-base64!", f"good.example {key_text(keys[0])}"])
    entries, bad = parse_known_hosts(text, tmp_path / "kh")
    assert [e.names for e in entries] == ["good.example"]
    assert bad == [3, 4, 5]


def test_plain_hashed_pattern_and_port_matching(tmp_path, keys):
    f = tmp_path / "kh"
    f.write_text(f"{hashed_name('[h.example]:2222')} {key_text(keys[0])}\n"
                 f"*.wild.example,!bad.wild.example {key_text(keys[1])}\n"
                 f"plain.example,10.0.0.1 {key_text(keys[2])}\n")
    kh = KnownHosts(None, user_files=[f])
    assert kh.check("h.example", 2222, keys[0]) == KNOWN
    assert kh.check("h.example", 22, keys[0]) == UNKNOWN             # another port: not vouched for
    assert kh.check("a.wild.example", 22, keys[1]) == KNOWN
    assert kh.check("bad.wild.example", 22, keys[1]) == UNKNOWN      # negated
    assert kh.check("other.example", 22, keys[2], addr="10.0.0.1") == KNOWN
    with pytest.raises(HostKeyChanged) as info:
        kh.check("plain.example", 22, keys[0])
    assert keys[2].get_fingerprint() in str(info.value) and keys[0].get_fingerprint() in str(info.value)
    assert str(f) in info.value.detail
    assert info.value.old[1] == keys[2].get_fingerprint() and info.value.new[1] == keys[0].get_fingerprint()
    assert info.value.host == "plain.example" and info.value.where.startswith(str(f))


def test_revoked_key_is_refused(tmp_path, keys):
    f = tmp_path / "kh"
    f.write_text(f"@revoked * {key_text(keys[0])}\n")
    with pytest.raises(HostKeyRevoked):
        KnownHosts(None, user_files=[f]).check("any.example", 22, keys[0])


def test_remember_appends_hashed_to_own_file_only(tmp_path, keys):
    user = tmp_path / "user_kh"
    user.write_text("")
    own = tmp_path / "cfg" / "known_hosts"
    kh = KnownHosts(own, user_files=[user])
    kh.remember("new.example", 2200, keys[1])
    assert user.read_text() == ""
    text = own.read_text()
    assert text.startswith("|1|") and "new.example" not in text
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    assert KnownHosts(own, user_files=[]).check("new.example", 2200, keys[1]) == KNOWN
    assert kh.preferred_algorithms("new.example", 2200)[0] == "ssh-ed25519"


def test_accept_once_is_in_memory(tmp_path, keys):
    kh = KnownHosts(tmp_path / "own", user_files=[])
    kh.accept_once("h", 22, keys[0])
    assert kh.accepted_once("h", 22, keys[0]) and not kh.accepted_once("h", 23, keys[0])
    assert not (tmp_path / "own").exists()


# -- fuzzing: whatever a known_hosts file holds, reading and matching it never fails --------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40)
LINE = st.one_of(
    FIELD,
    st.builds(lambda m, h, t, k: f"{m}{h} {t} {k}", st.sampled_from(["", "@revoked ", "@cert-authority ", "@x "]),
              st.one_of(FIELD, st.builds(hashed_name, FIELD)), st.sampled_from(["ssh-ed25519", "ssh-rsa", "x"]),
              st.one_of(FIELD, st.sampled_from(["AAAAC3NzaC1lZDI1NTE5AAAAI", "AAAA====", ""]))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=8), host=FIELD, port=st.integers(1, 65535))
def test_any_known_hosts_text_is_read_and_matched_without_failing(tmp_path, keys, lines, host, port):
    text = "\n".join(lines)
    entries, bad = parse_known_hosts(text, tmp_path / "kh")
    assert len(entries) + len(bad) <= len(lines)
    (tmp_path / "kh").write_text(text)
    kh = KnownHosts(None, user_files=[tmp_path / "kh"])
    try:
        assert kh.check(host or "h", port, keys[0]) in (KNOWN, UNKNOWN)
    except (HostKeyChanged, HostKeyRevoked):
        pass


@given(name=FIELD)
def test_a_hashed_name_matches_itself_only(name):
    from netgui.net.ftp.hostkeys import _hashed_match
    hashed = hashed_name(name)
    assert _hashed_match(hashed, name) and not _hashed_match(hashed, name + "x")
