"""Splitting streamed IMAP responses: any chunking gives the same responses; limits hold."""

from __future__ import annotations

import pytest

from netgui.net.errors import ProtocolError
from netgui.net.mail.imap import _LIST_FETCH_RE
from netgui.net.mail.imap_stream import MAX_LINE, ResponseReader

HEADER = b"From: A <a@example.org>\r\nSubject: {5}\r\n\r\n"
STREAM = (b"* 3 EXISTS\r\n"
          b"* 1 FETCH (UID 7 FLAGS (\\Seen) RFC822.SIZE 99 BODY[HEADER.FIELDS (FROM SUBJECT)] {"
          + str(len(HEADER)).encode() + b"}\r\n" + HEADER + b")\r\n"
          b"* 2 FETCH (BODY[HEADER.FIELDS (FROM)] {3}\r\nab\n UID 8 BODY[TEXT] {0}\r\n)\r\n"
          b"* OK [ALERT] mind the gap\r\n"
          b"ng1 OK Fetch completed.\r\n")


def read_all(chunks, quick=None):
    reader = ResponseReader()
    out = []
    for chunk in chunks:
        reader.feed(chunk)
        out.extend(reader.responses(quick))
    return out, reader.pending


def test_every_chunking_gives_the_same_responses():
    whole, pending = read_all([STREAM])
    assert pending == 0
    assert [text for text, _ in whole] == [
        b"* 3 EXISTS",
        b"* 1 FETCH (UID 7 FLAGS (\\Seen) RFC822.SIZE 99 BODY[HEADER.FIELDS (FROM SUBJECT)] {"
        + str(len(HEADER)).encode() + b"})",
        b"* 2 FETCH (BODY[HEADER.FIELDS (FROM)] {3} UID 8 BODY[TEXT] {0})",
        b"* OK [ALERT] mind the gap",
        b"ng1 OK Fetch completed."]
    assert whole[1][1] == [HEADER] and whole[2][1] == [b"ab\n", b""]
    for size in range(1, len(STREAM)):
        chunks = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
        assert read_all(chunks) == (whole, 0), size


def test_the_quick_shape_reads_the_same_literal():
    whole, _ = read_all([STREAM])
    for size in (1, 7, 64, len(STREAM)):
        quick, pending = read_all([STREAM[i:i + size] for i in range(0, len(STREAM), size)],
                                  _LIST_FETCH_RE)
        assert pending == 0
        groups, literal = quick[1]
        assert groups == (b"1", b"7", b"\\Seen", b"99", str(len(HEADER)).encode())
        assert literal == HEADER
        others = [item for i, item in enumerate(quick) if i != 1]
        assert others == [item for i, item in enumerate(whole) if i != 1]


def test_a_partial_response_waits_for_the_rest():
    reader = ResponseReader()
    reader.feed(STREAM[:60])
    assert list(reader.responses()) == [(b"* 3 EXISTS", [])]
    assert reader.pending == 60 - len(b"* 3 EXISTS\r\n")


def test_an_endless_line_or_a_huge_literal_is_a_protocol_error():
    reader = ResponseReader("imap.example")
    reader.feed(b"* " + b"x" * (MAX_LINE + 10))
    with pytest.raises(ProtocolError, match="longer than"):
        list(reader.responses())
    reader = ResponseReader("imap.example")
    reader.feed(b"* 1 FETCH (BODY[] {999999999999}\r\n")
    with pytest.raises(ProtocolError, match="literal"):
        list(reader.responses(_LIST_FETCH_RE))
