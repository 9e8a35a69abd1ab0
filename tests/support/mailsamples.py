"""Awkward but real-world messages for the mail-reading tests, as raw bytes."""

from __future__ import annotations

import base64
import io

PNG_RED = None


def png_bytes(size=(8, 6), colour=(200, 30, 30)) -> bytes:
    """A small PNG made with pillow."""
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def plain(subject="Hello", sender="Alice Example <alice@example.org>", body="Hi there.\n",
          to="bob@example.org", date="Mon, 02 Mar 2026 10:00:00 +0000", msgid=None) -> bytes:
    msgid = msgid or f"<{abs(hash((subject, body, date)))}@example.org>"
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
            f"Message-ID: {msgid}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}").encode("utf-8")


def encoded_headers() -> bytes:
    """RFC 2047 words in From and Subject (UTF-8 base64 and ISO-8859-1 quoted-printable)."""
    return (b"From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>\r\n"
            b"To: =?iso-8859-1?q?Fran=E7ois?= <francois@example.fr>\r\n"
            b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?= =?UTF-8?B?IOKCrDUw?=\r\n"
            b"Date: Tue, 03 Mar 2026 11:00:00 +0100\r\n"
            b"Message-ID: <enc@example.de>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
            b"\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe!\r\n")


def latin1_body() -> bytes:
    """A body in ISO-8859-1 with 8-bit transfer encoding."""
    return ("From: Zoë <zoe@example.be>\r\nTo: bob@example.org\r\nSubject: =?iso-8859-1?q?Caf=E9?=\r\n"
            "Date: Wed, 04 Mar 2026 09:00:00 +0000\r\nMessage-ID: <latin1@example.be>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\nCafé crème à la façon de Noël\r\n").encode("latin-1")


def koi8r_body() -> bytes:
    """A KOI8-R body in base64 with a KOI8-R encoded subject."""
    body = base64.b64encode("Привет, мир!\n".encode("koi8-r")).decode()
    subject = base64.b64encode("Привет".encode("koi8-r")).decode()
    return (f"From: ivan@example.ru\r\nTo: bob@example.org\r\nSubject: =?koi8-r?B?{subject}?=\r\n"
            "Date: Thu, 05 Mar 2026 09:00:00 +0300\r\nMessage-ID: <koi8@example.ru>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=koi8-r\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n").encode("ascii")


def unknown_charset() -> bytes:
    """A charset no codec knows: must still show, not crash."""
    return (b"From: x@example.org\r\nSubject: odd\r\nDate: Thu, 05 Mar 2026 09:00:00 +0000\r\n"
            b"Message-ID: <odd@example.org>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nplain ascii \xe9 text\r\n")


def html_only() -> bytes:
    """HTML with a remote image, a tracking pixel, script and style: shown as safe text."""
    markup = ("<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>"
              "<h1>Newsletter</h1><p>Read <a href=\"https://example.com/more\">more here</a>.</p>"
              "<img src=\"https://tracker.example.com/pixel.gif\" alt=\"logo\">"
              "<ul><li>one</li><li>two &amp; three</li></ul></body></html>")
    return ("From: News <news@example.com>\r\nTo: bob@example.org\r\nSubject: HTML only\r\n"
            "Date: Fri, 06 Mar 2026 08:00:00 +0000\r\nMessage-ID: <html@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"{markup}\r\n").encode("utf-8")


HOSTILE_NAMES = ("../../etc/passwd", "C:\\Windows\\evil.exe", "/abs/path/notes.txt",
                 "..", "nul\x00byte.txt")


def multipart_with_attachments() -> bytes:
    """text/plain + text/html alternative, a PNG and files with hostile names."""
    from email import policy
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"] = "Carol <carol@example.net>"
    msg["To"] = "bob@example.org"
    msg["Subject"] = "Files attached"
    msg["Date"] = "Sat, 07 Mar 2026 12:00:00 +0000"
    msg["Message-ID"] = "<multi@example.net>"
    msg.set_content("The plain part wins.\n")
    msg.add_alternative("<p>The <b>HTML</b> part loses.</p>", subtype="html")
    msg.add_attachment(png_bytes(), maintype="image", subtype="png", filename="red.png")
    for i, name in enumerate(HOSTILE_NAMES):
        msg.add_attachment(f"payload {i}\n".encode(), maintype="application",
                           subtype="octet-stream", filename=name.replace("\x00", ""))
    raw = msg.as_bytes(policy=policy.SMTP)
    # a NUL cannot be put in by the email package: patch the last name in directly
    return raw.replace(b'filename="nulbyte.txt"', b'filename="nul\x00byte.txt"')
