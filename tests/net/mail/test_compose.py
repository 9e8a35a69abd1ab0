"""Composing: addresses, header injection, MIME round trip, reply / reply-all / forward."""

from __future__ import annotations

import email
import email.policy

import pytest

from netgui.net.mail import compose
from netgui.net.mail.compose import Attachment, ComposeError, Draft
from netgui.net.mail.outbox import draft_bytes, load_draft

PROFILE = {"display_name": "Alice Ärger", "email": "alice@example.test",
           "signature": "Alice\nhttps://example.test"}


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def full_draft() -> Draft:
    return Draft(account="work", sender=compose.sender_for(PROFILE),
                 to="Bob Builder <bob@example.test>, carol@example.test",
                 cc='"Doe, John" <john@example.test>', bcc="hidden@example.test",
                 subject="Grüße — über alles ✓", body="Hällo Bob,\n\n.a line with a dot\nЖ\n",
                 attachments=[Attachment("naïve résumé.pdf", bytes(range(256)) * 10,
                                         "application/pdf"),
                              Attachment("notes.txt", b"plain\r\nbytes\n", "text/plain")])


@pytest.mark.parametrize("text,expected", [
    ("bob@example.test", ["bob@example.test"]),
    ("Bob <bob@example.test>, carol@example.test", ["bob@example.test", "carol@example.test"]),
    ('"Doe, John" <john@example.test>; ', ["john@example.test"]),
    ("a@x.test; b@y.test", ["a@x.test", "b@y.test"]),
    (" , bob@example.test,, ", ["bob@example.test"]),
    ("Zoë <zoe@bücher.example>", ["zoe@xn--bcher-kva.example"]),
    ("", []),
])
def test_parse_addresses_accepts(text, expected):
    if expected is None:
        with pytest.raises(ComposeError):
            compose.parse_addresses(text, "To")
        return
    assert [a for _, a in compose.parse_addresses(text, "To")] == expected


@pytest.mark.parametrize("text", [
    "bob", "bob@", "@example.test", "bob@example..test", "a@b.test c@d.test",
    "Bob <bob@example.test", "alice@example.org)<bob@example.org>", "bob@-bad-.test",
    '"unclosed <bob@example.test>', "bob@example.test\r\nBcc: victim@example.test",
    "bob@example.test\nX-Evil: 1",
])
def test_parse_addresses_refuses(text):
    with pytest.raises(ComposeError) as info:
        compose.parse_addresses(text, "Cc")
    assert str(info.value).startswith("Cc")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("field,value", [
    ("subject", "Hello\r\nBcc: victim@example.test"),
    ("subject", "Hello\nX-Injected: yes"),
    ("subject", "nul\x00byte"),
    ("to", "bob@example.test\r\nBcc: victim@example.test"),
    ("bcc", "x@example.test\nSubject: spoofed"),
    ("sender", "Alice <alice@example.test>\r\nReply-To: evil@example.test"),
    ("in_reply_to", "<a@b>\r\nBcc: victim@example.test"),
])
def test_header_injection_refused(field, value):
    draft = full_draft()
    setattr(draft, field, value)
    with pytest.raises(ComposeError):
        compose.build_message(draft)
    assert compose.validate(draft) or field == "in_reply_to"


def test_round_trip_headers_body_attachments():
    draft = full_draft()
    msg = compose.build_message(draft)
    data = compose.wire_bytes(msg)
    assert data.isascii(), "7-bit clean on the wire"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    got = parse(data)
    assert got["Subject"] == "Grüße — über alles ✓"
    assert got["From"].addresses[0].display_name == "Alice Ärger"
    assert [a.addr_spec for a in got["To"].addresses] == ["bob@example.test", "carol@example.test"]
    assert got["Cc"].addresses[0].display_name == "Doe, John"
    assert got["Bcc"] is None, "Bcc never goes on the wire"
    assert got["Message-ID"] == draft.message_id and draft.message_id.endswith("@example.test>")
    assert got["Date"] is not None
    assert got.get_body(("plain",)).get_content().replace("\r\n", "\n") == draft.body
    atts = list(got.iter_attachments())
    assert [a.get_filename() for a in atts] == ["naïve résumé.pdf", "notes.txt"]
    assert atts[0].get_content_type() == "application/pdf"
    assert atts[0].get_payload(decode=True) == bytes(range(256)) * 10
    assert atts[1].get_payload(decode=True) == b"plain\r\nbytes\n"  # bytes exact, base64
    assert atts[1].get_content_type() == "text/plain"
    sender, rcpts = compose.envelope(msg)
    assert sender == "alice@example.test"
    assert rcpts == ["bob@example.test", "carol@example.test", "john@example.test",
                     "hidden@example.test"]
    # the same Message-ID when built again (a retry is the same message)
    assert compose.build_message(draft)["Message-ID"] == draft.message_id


def test_validate_reports_problems_in_one_line_each():
    assert compose.validate(Draft(sender="alice@example.test")) == ["Add at least one recipient"]
    problems = compose.validate(Draft(sender="", to="bob", subject="x"))
    assert any(p.startswith("From") for p in problems) and any(p.startswith("To") for p in problems)
    assert compose.validate(full_draft()) == []


def test_attachment_from_path_guesses_type_and_strips_path(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n....")
    att = Attachment.from_path(path)
    assert (att.filename, att.content_type, att.size) == ("photo.png", "image/png", 12)


ORIGINAL = (
    "From: Bob Builder <bob@example.test>\r\n"
    "To: Alice <alice@example.test>, Carol <carol@example.test>\r\n"
    "Cc: dave@example.test, alice@example.test\r\n"
    "Subject: =?utf-8?q?Pl=C3=A4ne?=\r\n"
    "Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
    "Message-ID: <orig-2@example.test>\r\n"
    "References: <orig-0@example.test> <orig-1@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
    "--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Gr=FC=DFe,\r\nthe plan.\r\n"
    "--XX\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"../x.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--XX--\r\n").encode("latin-1")


def test_reply_quotes_and_threads():
    d = compose.reply_draft("work", PROFILE, ORIGINAL)
    assert d.to == "Bob Builder <bob@example.test>" and d.cc == ""
    assert d.subject == "Re: Pläne"
    assert d.in_reply_to == "<orig-2@example.test>"
    assert d.references == "<orig-0@example.test> <orig-1@example.test> <orig-2@example.test>"
    assert "Bob Builder <bob@example.test> wrote:" in d.body
    assert "> Grüße,\n> the plan.\n" in d.body
    assert d.body.rstrip().endswith("-- \nAlice\nhttps://example.test")
    assert d.sender == "Alice Ärger <alice@example.test>"
    again = compose.reply_draft("work", PROFILE, compose.build_message(
        Draft(sender=d.to, to=d.sender, subject=d.subject, body="ok")))
    assert again.subject == "Re: Pläne"  # no "Re: Re:"
    msg = compose.build_message(d)
    assert msg["In-Reply-To"] == "<orig-2@example.test>"


def test_reply_all_excludes_own_address():
    d = compose.reply_draft("work", PROFILE, ORIGINAL, reply_all=True)
    assert d.to == "Bob Builder <bob@example.test>"
    assert d.cc == "Carol <carol@example.test>, dave@example.test"
    assert "alice@example.test" not in d.cc


def test_reply_to_header_wins():
    original = ORIGINAL.replace(b"Subject:", b"Reply-To: list@example.test\r\nSubject:")
    assert compose.reply_draft("work", PROFILE, original).to == "list@example.test"


def test_forward_keeps_attachments_and_text():
    d = compose.forward_draft("work", PROFILE, ORIGINAL)
    assert d.subject == "Fwd: Pläne" and d.to == "" and d.in_reply_to == ""
    assert "-------- Forwarded Message --------" in d.body
    assert "From: Bob Builder <bob@example.test>" in d.body
    assert "Grüße,\nthe plan." in d.body
    assert [(a.filename, a.content_type) for a in d.attachments] == [("x.png", "image/png")]
    assert d.attachments[0].data == b"\x89PNG\r\n\x1a\n"


def test_reply_to_html_only_mail_quotes_text():
    original = (b"From: x@example.test\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n"
                b"<html><head><style>p{}</style></head><body><p>Hello <b>there</b></p>"
                b"<img src='http://tracker.example/x.png'><p>Bye</p></body></html>\r\n")
    d = compose.reply_draft("work", PROFILE, original)
    assert "> Hello there\n" in d.body and "> Bye" in d.body
    assert "tracker" not in d.body and "p{}" not in d.body


def test_draft_round_trip_keeps_invalid_fields_as_typed():
    d = full_draft()
    d.to = "bob@example.test, not-an-address"
    d.subject = "half typed"
    back = load_draft(draft_bytes(d), "work", d.id)
    assert (back.to, back.subject, back.cc, back.bcc) == (d.to, d.subject, d.cc, d.bcc)
    assert back.body == d.body
    assert [a.data for a in back.attachments] == [a.data for a in d.attachments]
    assert back.message_id == d.message_id != ""
    good = full_draft()
    back = load_draft(draft_bytes(good), "work", good.id)
    assert (back.to, back.cc, back.bcc, back.subject) == (
        "Bob Builder <bob@example.test>, carol@example.test", '"Doe, John" <john@example.test>',
        "hidden@example.test", good.subject)
    assert back.message_id == good.message_id


def test_forward_of_attached_message_keeps_it_as_eml():
    inner = b"From: x@example.test\r\nSubject: inner\r\n\r\ninner body\r\n"
    outer = (b"From: y@example.test\r\nSubject: outer\r\nMIME-Version: 1.0\r\n"
             b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
             b"Content-Type: text/plain\r\n\r\nsee below\r\n--B\r\n"
             b"Content-Type: message/rfc822\r\n\r\n" + inner + b"--B--\r\n")
    d = compose.forward_draft("work", PROFILE, outer)
    assert [(a.filename, a.content_type) for a in d.attachments] == [
        ("forwarded.eml", "message/rfc822")]
    assert b"Subject: inner" in d.attachments[0].data
    d.to = "z@example.test"
    got = parse(compose.wire_bytes(compose.build_message(d)))
    [att] = list(got.iter_attachments())
    assert att.get_filename() == "forwarded.eml"
    assert b"inner body" in att.get_payload(decode=True)


def test_reply_accepts_the_reading_sides_parsed_messages():
    from netgui.net.mail.message import parse_message
    for original in (parse(ORIGINAL), parse_message(ORIGINAL)):
        d = compose.reply_draft("work", PROFILE, original, reply_all=True)
        assert d.subject == "Re: Pläne" and d.in_reply_to == "<orig-2@example.test>"
        assert "> Grüße," in d.body
        assert d.cc == "Carol <carol@example.test>, dave@example.test"
