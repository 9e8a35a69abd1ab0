"""IrcSession against a real ngircd on loopback."""

import time

import pytest

from netgui.net.chat.irc import IrcProfile, IrcSession
from netgui.net.errors import Cancelled, ConnectError
from tests.support.peers import free_port


def profile(ngircd, nick, **kw):
    return IrcProfile("127.0.0.1", ngircd.port, nick=nick, real_name=f"{nick} tester", **kw)


def message(window, text, nick=None, style="privmsg"):
    return lambda e: (e.kind == "message" and e.window == window and e.text == text and e.style == style
                      and (nick is None or e.nick == nick))


def users_of(runner, channel):
    return runner.find(lambda e: e.kind == "users" and e.window.lower() == channel)[-1].data


def test_two_clients_talk_act_rename_query_part_and_quit(ngircd, irc_runner):
    alice = irc_runner(profile(ngircd, "alice", channels=["#netgui"]))
    alice.wait_connected()
    alice.wait_for(lambda e: e.kind == "open" and e.window == "#netgui", what="alice's join")
    bob = irc_runner(profile(ngircd, "bob", channels=["#netgui"]))
    bob.wait_connected()
    bob.wait_for(lambda e: e.kind == "open" and e.window == "#netgui")
    # alice created the channel, so she is its operator; the nick list shows the mode
    alice.wait_for(lambda e: e.kind == "users" and e.data == [("@", "alice"), ("", "bob")], what="nick list")
    bob.wait_for(lambda e: e.kind == "users" and e.data == [("@", "alice"), ("", "bob")])
    bob.wait_for(lambda e: e.kind == "info" and e.style == "names" and e.text == "2 here: @alice bob")
    assert bob.find(lambda e: e.kind == "network" and e.data == "NetguiTest")

    alice.say("#netgui", "hello bob, ünïcode ✓")
    bob.wait_for(message("#netgui", "hello bob, ünïcode ✓", "alice"))
    hl = bob.find(message("#netgui", "hello bob, ünïcode ✓"))[-1]
    assert hl.highlight  # bob is mentioned
    alice.wait_for(lambda e: e.kind == "message" and e.own and e.text == "hello bob, ünïcode ✓")

    bob.say("#netgui", "/me waves")
    alice.wait_for(message("#netgui", "waves", "bob", style="action"))

    bob.say("#netgui", "/nick robert")
    alice.wait_for(lambda e: e.kind == "info" and e.text == "bob is now known as robert")
    bob.wait_for(lambda e: e.kind == "nick" and e.data == "robert")
    alice.wait_for(lambda e: e.kind == "users" and ("", "robert") in e.data)

    alice.say("#netgui", "/msg robert a secret")
    bob.wait_for(message("alice", "a secret", "alice"))
    bob.say("alice", "got it")
    alice.wait_for(message("robert", "got it", "robert"))

    alice.say("#netgui", "/topic #netgui Testing netgui")
    bob.wait_for(lambda e: e.kind == "topic" and e.window == "#netgui" and e.text == "Testing netgui")

    bob.say("#netgui", "/part #netgui see you")
    bob.wait_for(lambda e: e.kind == "close" and e.window == "#netgui")
    alice.wait_for(lambda e: e.kind == "info" and e.text == "robert left (see you)")
    alice.wait_for(lambda e: e.kind == "users" and e.data == [("@", "alice")])

    bob.say(None, "/whois alice")
    bob.wait_for(lambda e: e.kind == "info" and e.style == "whois" and "alice is ~alice@" in e.text
                 and "alice tester" in e.text, what="whois")

    bob.say(None, "/quit bye now")
    assert bob.finished.wait(10) and bob.error is None
    alice.say("#netgui", "anyone?")
    alice.wait_for(lambda e: e.kind == "message" and e.text == "anyone?" and e.own)
    # alice saw bob quit on a private window only if open; the transcript shows the wire
    assert any(d == ">" and t.startswith("QUIT") for d, t in bob.logs)


def test_ctcp_version_is_answered(ngircd, irc_runner):
    a = irc_runner(profile(ngircd, "asker"))
    b = irc_runner(profile(ngircd, "answerer"))
    a.wait_connected(), b.wait_connected()
    a.say(None, "/quote PRIVMSG answerer :\x01VERSION\x01")
    reply = a.wait_for(lambda e: e.kind == "info" and e.style == "ctcp" and "VERSION reply from answerer" in e.text)
    assert "netgui" in reply.text


def test_nick_collision_falls_back_to_alt_then_underscore(ngircd, irc_runner):
    first = irc_runner(profile(ngircd, "dup"))
    first.wait_connected()
    second = irc_runner(profile(ngircd, "dup", alt_nick="dupalt"))
    second.wait_connected()
    assert second.session.nick == "dupalt"
    third = irc_runner(profile(ngircd, "dup", alt_nick="dupalt"))
    third.wait_connected()
    assert third.session.nick == "dup_"
    assert third.find(lambda e: e.kind == "info" and "Nick dupalt is not available" in e.text)
    # renaming onto a taken nick after registration is an error message, not a disconnect
    third.say(None, "/nick dup")
    third.wait_for(lambda e: e.kind == "info" and e.style == "error" and "dup" in e.text and "in use" in e.text)
    assert third.session.nick == "dup_"


def test_reconnects_after_the_server_drops_and_rejoins(ngircd, irc_runner):
    r = irc_runner(profile(ngircd, "phoenix", channels=["#rise"]), backoff=(0.2, 1.0))
    r.wait_connected()
    r.wait_for(lambda e: e.kind == "open" and e.window == "#rise")
    r.say("#rise", "/join #second")
    r.wait_for(lambda e: e.kind == "open" and e.window == "#second")
    ngircd.restart()
    r.wait_for(lambda e: e.kind == "state" and e.data == "reconnecting", what="reconnect notice")
    opens = lambda: len(r.find(lambda e: e.kind == "open" and e.window == "#second"))
    deadline = time.monotonic() + 15
    while opens() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert opens() == 2, "did not rejoin #second after reconnecting"
    assert len(r.find(lambda e: e.kind == "state" and e.data == "connected")) == 2
    other = irc_runner(profile(ngircd, "witness", channels=["#rise"]))
    other.wait_connected()
    r.say("#rise", "back again")
    other.wait_for(message("#rise", "back again", "phoenix"))


def test_first_connection_failure_is_an_error_and_cancel_stops_backoff(irc_runner, ngircd):
    session = IrcSession(IrcProfile("127.0.0.1", free_port(), nick="x"), lambda evs: None, timeout=2)
    with pytest.raises(ConnectError):
        session.run()
    r = irc_runner(profile(ngircd, "quitter"), backoff=(30, 60))
    r.wait_connected()
    ngircd.kill()
    r.wait_for(lambda e: e.kind == "state" and e.data == "reconnecting")
    started = time.monotonic()
    r.token.cancel()
    assert r.finished.wait(5)
    assert time.monotonic() - started < 3
    assert isinstance(r.error, Cancelled)


def test_long_message_is_split_on_utf8_boundaries(ngircd, irc_runner):
    a = irc_runner(profile(ngircd, "longa", channels=["#long"]))
    b = irc_runner(profile(ngircd, "longb", channels=["#long"]))
    a.wait_connected(), b.wait_connected()
    b.wait_for(lambda e: e.kind == "users" and len(e.data) == 2)
    text = "é✓ " * 400  # 2,400 bytes
    a.say("#long", text)
    deadline = time.monotonic() + 10
    got = []
    while time.monotonic() < deadline:
        got = b.find(lambda e: e.kind == "message" and e.nick == "longa")
        if "".join(m.text + " " for m in got).split() == text.split():
            break
        time.sleep(0.05)
    assert len(got) >= 5
    assert " ".join(m.text for m in got).split() == text.split()
    sent = [t for d, t in a.logs if d == ">" and t.startswith("PRIVMSG #long")]
    assert all(len(s.encode()) <= 510 for s in sent)


def test_rate_limit_spaces_out_lines(ngircd, irc_runner):
    r = irc_runner(profile(ngircd, "limited", channels=["#rate"]), rate=10, burst=2)
    r.wait_connected()
    r.wait_for(lambda e: e.kind == "open")
    time.sleep(0.3)  # let the bucket fill to its burst
    started = time.monotonic()
    for i in range(12):
        r.say("#rate", f"line {i}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(1 for d, t in r.logs if d == ">" and t.startswith("PRIVMSG #rate")) == 12:
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    # 2 at once, then 10 more at 10 per second: about one second; never all at once
    assert elapsed >= 0.8


def test_modes_and_kick_update_the_nick_list(ngircd, irc_runner):
    op = irc_runner(profile(ngircd, "op", channels=["#modes"]))
    op.wait_for(lambda e: e.kind == "open")
    guest = irc_runner(profile(ngircd, "guest", channels=["#modes"]))
    guest.wait_for(lambda e: e.kind == "open")
    op.wait_for(lambda e: e.kind == "users" and e.data == [("@", "op"), ("", "guest")])
    op.say("#modes", "/quote MODE #modes +v guest")
    guest.wait_for(lambda e: e.kind == "users" and e.data == [("@", "op"), ("+", "guest")], what="voice")
    op.say("#modes", "/quote MODE #modes +o-v guest guest")
    op.wait_for(lambda e: e.kind == "users" and e.data == [("@", "guest"), ("@", "op")], what="op")
    op.say("#modes", "/quote KICK #modes guest :enough")
    guest.wait_for(lambda e: e.kind == "info" and e.text == "You were kicked from #modes by op (enough)")
    op.wait_for(lambda e: e.kind == "users" and e.data == [("@", "op")])
    # a refused command comes back as a readable error in the window it was typed in
    guest.say("#modes", "/topic #modes not allowed")
    guest.wait_for(lambda e: e.kind == "info" and e.style == "error" and e.window == "#modes"
                   and "#modes" in e.text, what="error numeric")
