"""Text from the network."""

from netgui.net.text import decode_line


def test_decode_line_falls_back_to_latin1():
    assert decode_line("héllo ✓".encode()) == "héllo ✓"
    assert decode_line("héllo".encode("latin-1")) == "héllo"
