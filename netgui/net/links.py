"""Links and addresses in text: URLs (web, FTP, SFTP, IRC), mailto: and e-mail addresses,
bare domain names and IP addresses, each with the kind of tab that opens it.

``find_links(text)`` returns non-overlapping (start, end, Link) in order. A bare domain is
only taken when its last label is a known top-level domain (so ``notes.txt`` and
``setup.py`` are not links); URLs and addresses lose trailing punctuation (``(see
https://x.example/a).`` gives ``https://x.example/a``)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

WEB, FTP, MAIL, CHAT, DNS = "web", "ftp", "mail", "chat", "dns"
SCHEME_KINDS = {"http": WEB, "https": WEB, "ftp": FTP, "ftps": FTP, "ftpes": FTP, "sftp": FTP,
                "irc": CHAT, "ircs": CHAT, "mailto": MAIL}
# generic top-level domains people write in text; two-letter country codes are all taken
# except the ones that are also common file extensions
GENERIC_TLDS = frozenset("""com net org edu gov mil int info biz name pro mobi aero coop museum
io dev app ai co me tv xyz online site tech store blog cloud page live news email world
network systems software solutions digital media agency design studio shop wiki social
onion arpa test example invalid localhost local lan home internal""".split())
NOT_TLDS = frozenset("py sh md rs pl so cc ps mk am ac ml hs ts gz bz xz js db ok".split())
_URL = re.compile(r"\b(?:https?|ftps?|ftpes|sftp|ircs?)://[^\s<>\"'`]+", re.I)
_MAILTO = re.compile(r"\bmailto:[^\s<>\"'`]+", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.I)
_DOMAIN = re.compile(r"(?<![\w.@/:-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?(?![\w@/-])", re.I)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\w)")
_IPV6 = re.compile(r"(?<![\w:.])\[?[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\]?(?![\w:])", re.I)
_TRAILING = ".,;:!?'\""


@dataclass(frozen=True)
class Link:
    text: str      # as found in the text
    kind: str      # web, ftp, mail, chat, dns
    url: str       # a URL (https://…, ftp://…, mailto:…, irc://…) or, for dns, the name/address
    host: str      # the host in it (the domain for an e-mail address)

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0].lower() if ":" in self.url and self.kind != DNS else ""


def _trim(text: str) -> str:
    """Trailing punctuation and an unbalanced closing bracket are not part of a link."""
    while text and (text[-1] in _TRAILING or (text[-1] in ")]>}" and
                                               text.count(text[-1]) > text.count({")": "(", "]": "[", ">": "<", "}": "{"}[text[-1]]))):
        text = text[:-1]
    return text


def is_domain(name: str) -> bool:
    labels = name.rstrip(".").lower().split(".")
    if len(labels) < 2:
        return False
    tld = labels[-1]
    return tld in GENERIC_TLDS or (len(tld) == 2 and tld.isalpha() and tld not in NOT_TLDS)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def classify(text: str) -> Link | None:
    """The Link for one word (a URL, mailto:, address, domain or IP), or None."""
    word = text.strip()
    if not word:
        return None
    lowered = word.lower()
    if lowered.startswith("mailto:"):
        address = unquote(word[7:].split("?", 1)[0])
        return Link(text, MAIL, word, address.rsplit("@", 1)[-1].lower() if "@" in address else "")
    if "://" in word:
        scheme = lowered.split("://", 1)[0]
        kind = SCHEME_KINDS.get(scheme)
        if kind is None:
            return None
        try:
            host = urlsplit(word).hostname or ""
        except ValueError:
            return None
        return Link(text, kind, word, host) if host else None
    if _EMAIL.fullmatch(word):
        return Link(text, MAIL, f"mailto:{word}", word.rsplit("@", 1)[1].lower())
    if is_ip(word):
        return Link(text, DNS, word.strip("[]"), word.strip("[]"))
    if _DOMAIN.fullmatch(word) and is_domain(word):
        return Link(text, DNS, word.rstrip(".").lower(), word.rstrip(".").lower())
    return None


def find_links(text: str, limit: int = 5000) -> list[tuple[int, int, Link]]:
    """Links in ``text`` as (start, end, Link), in order, none overlapping (at most ``limit``)."""
    spans: list[tuple[int, int, Link]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for pattern in (_URL, _MAILTO, _EMAIL, _IPV4, _IPV6, _DOMAIN):
        for match in pattern.finditer(text):
            word = _trim(match.group(0))
            start, end = match.start(), match.start() + len(word)
            if not word or not free(start, end):
                continue
            if pattern is _IPV6 and (word.count(":") < 2 or not is_ip(word)):
                continue
            link = classify(word)
            if link is None:
                continue
            spans.append((start, end, link))
            taken.append((start, end))
            if len(spans) >= limit:
                break
    return sorted(spans, key=lambda s: s[0])
