"""The IRC message parser and its text helpers, on their own."""

import pytest

from netgui.net.chat.irc_message import (
    Message,
    Prefix,
    casefold,
    ctcp,
    ctcp_parse,
    escape_tag_value,
    make,
    parse,
    parse_isupport_prefix,
    serialise,
    split_utf8,
    unescape_tag_value,
)
from netgui.net.errors import ProtocolError


def test_full_line_with_tags_prefix_params_and_trailing():
    msg = parse("@time=2024-01-01T00:00:00.000Z;msgid=abc;+draft/reply :nick!user@host PRIVMSG #chan :hello there\r\n")
    assert msg.tags == {"time": "2024-01-01T00:00:00.000Z", "msgid": "abc", "+draft/reply": None}
    assert msg.prefix == "nick!user@host"
    assert msg.source == Prefix("nick", "user", "host")
    assert msg.nick == "nick"
    assert msg.command == "PRIVMSG"
    assert msg.params == ["#chan", "hello there"]


def test_middle_params_and_no_trailing():
    msg = parse(":irc.example 005 me PREFIX=(ov)@+ CHANTYPES=# :are supported")
    assert msg.is_numeric and msg.command == "005"
    assert msg.params == ["me", "PREFIX=(ov)@+", "CHANTYPES=#", "are supported"]
    assert parse("MODE #c +o bob").params == ["#c", "+o", "bob"]
    assert parse("JOIN #a").params == ["#a"]


def test_trailing_may_be_empty_contain_colons_and_extra_spaces():
    assert parse("PRIVMSG #a :").params == ["#a", ""]
    assert parse("PRIVMSG #a ::-) a:b").params == ["#a", ":-) a:b"]
    assert parse("PRIVMSG #a :  two  spaces ").params == ["#a", "  two  spaces "]
    # extra spaces between middle params are tolerated
    assert parse(":srv   NOTICE   *   :hi").params == ["*", "hi"]


def test_command_is_upper_cased_and_server_prefix_has_no_user():
    msg = parse(":irc.test.net notice me :x")
    assert msg.command == "NOTICE"
    assert msg.source == Prefix("irc.test.net")
    assert str(msg.source) == "irc.test.net"


def test_tag_value_escaping_round_trips():
    raw = r"a\:b\sc\\d\re\nf"
    assert unescape_tag_value(raw) == "a;b c\\d\re\nf"
    assert escape_tag_value("a;b c\\d\re\nf") == raw
    # unknown escape keeps the character, a trailing lone backslash is dropped
    assert unescape_tag_value(r"x\yz\\") == "xyz\\"
    assert unescape_tag_value("end\\") == "end"
    msg = parse(r"@k=v\sw;empty=;flag :n PRIVMSG #a :t")
    assert msg.tags == {"k": "v w", "empty": None, "flag": None}


@pytest.mark.parametrize("bad", ["", "   ", "\r\n", ":prefixonly", ":p :only trailing", "@tags-only",
                                 ": PRIVMSG #a :x", "PRIV-MSG x", "12 x"])
def test_malformed_lines_raise_protocol_error(bad):
    with pytest.raises(ProtocolError):
        parse(bad)


def test_serialise_adds_colon_only_when_needed():
    assert serialise(make("PRIVMSG", "#a", "hello world")) == "PRIVMSG #a :hello world"
    assert serialise(make("NICK", "bob")) == "NICK bob"
    assert serialise(make("PRIVMSG", "#a", ":)")) == "PRIVMSG #a ::)"
    assert serialise(make("TOPIC", "#a", "")) == "TOPIC #a :"
    tagged = Message("TAGMSG", ["#a"], "n!u@h", {"+typing": "active", "x": "a b;c"})
    assert serialise(tagged) == r"@+typing=active;x=a\sb\:c :n!u@h TAGMSG #a"
    assert parse(serialise(tagged)) == tagged


def test_serialise_refuses_injection():
    with pytest.raises(ValueError):
        serialise(make("PRIVMSG", "#a", "hi\r\nQUIT :bye"))
    with pytest.raises(ValueError):
        serialise(make("PRIVMSG", "#a b", "x"))


def test_round_trip_of_many_lines():
    for line in [":a!b@c PRIVMSG #x :hi there", "PING token", ":s 353 me = #c :@op +voice plain",
                 "@a=1 :s CAP * LS :sasl multi-prefix", "CAP REQ sasl", ":a!b@c PRIVMSG #x ::)"]:
        assert serialise(parse(line)) == line
    assert serialise(parse(":a PRIVMSG #x :hi")) == ":a PRIVMSG #x hi"  # same message, shortest form


def test_ctcp():
    assert ctcp_parse("\x01ACTION waves hello\x01") == ("ACTION", "waves hello")
    assert ctcp_parse("\x01VERSION\x01") == ("VERSION", "")
    assert ctcp_parse("\x01action no-close") == ("ACTION", "no-close")
    assert ctcp_parse("plain text") is None
    assert ctcp_parse("\x01\x01") is None
    assert ctcp("version", "netgui 1") == "\x01VERSION netgui 1\x01"
    assert ctcp("VERSION") == "\x01VERSION\x01"


def test_split_utf8_respects_byte_limit_and_character_boundaries():
    text = "ä€😀" * 100
    pieces = split_utf8(text, 50)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= 50 for p in pieces)
    words = " ".join(["word"] * 60)
    pieces = split_utf8(words, 40)
    assert all(len(p.encode()) <= 40 for p in pieces)
    assert " ".join(pieces) == words
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in pieces)
    assert split_utf8("", 10) == [""]
    assert split_utf8("short", 10) == ["short"]


def test_isupport_prefix_and_casefold():
    assert parse_isupport_prefix("(qaohv)~&@%+") == [("q", "~"), ("a", "&"), ("o", "@"), ("h", "%"), ("v", "+")]
    assert parse_isupport_prefix("garbage") == [("o", "@"), ("v", "+")]
    assert casefold("Nick[]\\~") == "nick{}|^"
