"""Parsing mail for reading: encoded headers, charsets, HTML as text, attachments with hostile names."""

from __future__ import annotations

import email.utils
import os
import random

from PIL import Image

from netgui.net.mail.message import (
    html_to_text,
    list_keys,
    parse_date,
    parse_message,
    save_attachment,
    summarize,
)
from tests.support import mailsamples as samples


def test_encoded_headers_decode():
    msg = parse_message(samples.encoded_headers())
    assert msg.sender == "Jürgen Müller <juergen@example.de>"
    assert msg.to == "François <francois@example.fr>"
    assert msg.subject == "Grüße aus Köln €50"
    assert msg.text.strip() == "Schöne Grüße!"
    assert msg.date is not None and "2026" in msg.date_text


def test_every_charset_decodes():
    latin = parse_message(samples.latin1_body())
    assert latin.subject == "Café" and "Cafés"[:4] in latin.text and "Noël" in latin.text
    assert latin.sender.startswith("Zoë")
    koi = parse_message(samples.koi8r_body())
    assert koi.subject == "Привет" and "Привет, мир!" in koi.text
    odd = parse_message(samples.unknown_charset())
    assert "plain ascii" in odd.text and "text" in odd.text


def test_html_only_becomes_safe_text():
    msg = parse_message(samples.html_only())
    assert msg.from_html
    assert "Newsletter" in msg.text
    assert "more here <https://example.com/more>" in msg.text
    assert "• two & three" in msg.text
    assert "alert" not in msg.text and "color:red" not in msg.text
    assert "[logo]" in msg.text and "pixel.gif" not in msg.text
    assert msg.attachments == []


def test_plain_part_preferred_and_attachments_listed_safely(tmp_path):
    msg = parse_message(samples.multipart_with_attachments())
    assert msg.text.strip() == "The plain part wins."
    names = [a.safe_name for a in msg.attachments]
    assert names[0] == "red.png"
    for name in names:
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert name not in ("..", ".", "") and not name.startswith(".")
        assert ":" not in name
    assert "passwd" in names and "evil.exe" in names and "notes.txt" in names
    assert len(set(n.lower() for n in names)) == len(names)
    image = msg.attachments[0]
    assert image.is_image and image.size == len(samples.png_bytes())
    folder = tmp_path / "saved"
    paths = [save_attachment(a, folder) for a in msg.attachments]
    for path in paths:
        assert path.parent == folder and path.exists()
    assert not any(p.name.endswith(".part") for p in folder.iterdir())
    assert sorted(os.listdir(tmp_path)) == ["saved"]       # nothing escaped the folder
    again = save_attachment(msg.attachments[0], folder)    # never overwrites
    assert again.name == "red (2).png"
    with Image.open(paths[0]) as img:
        assert img.size == (8, 6)


def test_summary_for_the_list_is_fast_path():
    s = summarize(samples.multipart_with_attachments().split(b"\n\n")[0])
    assert s.subject == "Files attached" and s.sender == "Carol" and s.attachment
    assert s.message_id == "<multi@example.net>"
    raw_8bit = "Subject: Größe\r\nFrom: Jörg <j@example.de>\r\n\r\n".encode("utf-8")
    assert summarize(raw_8bit).subject == "Größe" and summarize(raw_8bit).sender == "Jörg"


def test_date_fast_path_agrees_with_the_email_package():
    rng = random.Random(7)
    for _ in range(3000):
        stamp = rng.randint(0, 4_000_000_000)
        text = email.utils.formatdate(stamp, localtime=rng.random() < 0.5)
        if rng.random() < 0.3:
            text = text.split(", ", 1)[1]                    # no weekday
        if rng.random() < 0.2:
            text += " (CET)"                                 # a comment
        assert parse_date(text) == stamp, text
    for odd in ("Tue, 3 Nov 2026 19:30 +0100", "3 Nov 26 19:30:14 GMT", "Tue, 31 Feb 2026 19:30:14 +0100",
                "Tue, 3 Nov 2026 19:30:14", "Tue,  3 Nov 2026 09:30:14 -0000"):
        parts = email.utils.parsedate_tz(odd)
        assert parse_date(odd) == float(email.utils.mktime_tz(parts)), odd
    assert parse_date("garbage") is None and parse_date("") is None


def test_list_keys_agree_with_the_full_summary():
    headers = [samples.multipart_with_attachments().split(b"\n\n")[0] + b"\n\n",
               samples.plain(subject="x").split(b"\n\n")[0],
               b"Date: Mon, 02 Mar 2026\r\n 10:00:00 +0000\r\nContent-Type: application/pdf\r\n",
               b"Content-Type: text/plain\r\n\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n",
               b""]
    for header in headers:
        summary = summarize(header)
        assert list_keys(header) == (summary.date, summary.attachment), header


def test_html_to_text_keeps_pre_and_drops_scripts():
    text = html_to_text("<pre>a  b\n c</pre><script>x()</script><p>end</p>")
    assert "a  b\n c" in text and "x()" not in text and "end" in text
