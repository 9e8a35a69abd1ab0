"""``netgui self-test`` (or ``--self-test``): check that this netgui (source, wheel or executable) really works.

It opens the main window, imports every tab, finds the keyring backends, a CA bundle and
the assets, and runs loopback round trips through the bundled getfile and chat servers.
It prints one line per failed check and exits 1, or prints a one-line summary and
exits 0. Settings go to a temporary folder, so a self-test never changes the user's.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NET_TIMEOUT = 20.0
WINDOW_TIMEOUT = 20.0


class CheckFailed(Exception):
    """A check's one-line reason for failing."""


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float


# -- helpers -----------------------------------------------------------------------------

def _describe(exc: BaseException) -> str:
    """One line for an unexpected exception: type, message and where it came from."""
    if isinstance(exc, CheckFailed):
        return str(exc)
    where = ""
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        frame = tb[-1]
        where = f" (at {Path(frame.filename).name}:{frame.lineno})"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}{where}" if text else f"{type(exc).__name__}{where}"


def _import(module: str, what: str):
    """Import ``module`` or fail the check saying which piece of netgui is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise CheckFailed(f"{what} is missing: cannot import {module} ({exc})") from exc


def _with_timeout(fn: Callable[[], None], seconds: float, what: str) -> None:
    """Run ``fn`` in a helper thread so a hung network call fails the check, not the test."""
    box: dict[str, BaseException] = {}

    def body() -> None:
        try:
            fn()
        except BaseException as exc:  # reported on the calling thread
            box["error"] = exc

    worker = threading.Thread(target=body, name=f"selftest {what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise CheckFailed(f"{what} did not finish within {seconds:.0f} s")
    if "error" in box:
        raise box["error"]


# -- the checks --------------------------------------------------------------------------

def check_modules() -> None:
    """Every tab, tool and subcommand module imports (the executable must carry them all)."""
    from netgui.tabs import TABS, TOOLS

    from . import COMMAND_MODULES

    broken = []
    for spec in TABS:
        try:
            getattr(importlib.import_module(spec.module), spec.cls)
        except Exception as exc:
            broken.append(f"tab {spec.key} ({spec.module}.{spec.cls}: {_describe(exc)})")
    for tool in TOOLS:
        try:
            getattr(importlib.import_module(tool.module), tool.func)
        except Exception as exc:
            broken.append(f"tool {tool.module}.{tool.func} ({_describe(exc)})")
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name).register
        except Exception as exc:
            broken.append(f"command {name} ({_describe(exc)})")
    if broken:
        raise CheckFailed("cannot load " + "; ".join(broken))


def check_http2_and_websocket() -> None:
    """h2 (with hpack, hyperframe) and wsproto (with h11) are there and speak."""
    import h2.config
    import h2.connection
    import wsproto
    import wsproto.events

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    if not conn.data_to_send().startswith(b"PRI * HTTP/2.0"):
        raise CheckFailed("h2 does not write the HTTP/2 connection preface")
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    if b"Upgrade: websocket" not in ws.send(wsproto.events.Request(host="example.com", target="/")):
        raise CheckFailed("wsproto does not write a WebSocket upgrade request")


def check_libraries() -> None:
    """The third-party libraries the tabs use import and work."""
    import dns.message
    import dns.rdatatype
    import platformdirs  # noqa: F401
    import sv_ttk
    from PIL import Image

    query = dns.message.make_query("example.com", dns.rdatatype.A)
    if dns.message.from_wire(query.to_wire()).question[0].name.to_text() != "example.com.":
        raise CheckFailed("dnspython does not round-trip a query")
    Image.new("RGB", (2, 2)).tobytes()
    check_http2_and_websocket()
    # mail and web decode many charsets; the CJK codecs are separate extension modules
    # that an executable must carry
    for charset, text in (("iso-2022-jp", "テスト"), ("shift_jis", "テスト"), ("euc-kr", "시험"),
                          ("gb18030", "测试"), ("big5", "測試"), ("koi8-r", "тест"),
                          ("cp1252", "café"), ("utf-7", "naïve")):
        try:
            if text.encode(charset).decode(charset) != text:
                raise CheckFailed(f"the {charset} codec does not round-trip")
        except LookupError as exc:
            raise CheckFailed(f"the {charset} codec is missing") from exc
    theme = Path(sv_ttk.__file__).resolve().parent / "sv.tcl"
    if not theme.is_file():
        raise CheckFailed(f"sv_ttk's theme files are missing ({theme})")


def check_keyring() -> str:
    """keyring finds its backends (through entry points, which an executable must carry)."""
    from importlib.metadata import entry_points

    import keyring

    eps = list(entry_points(group="keyring.backends"))
    if not eps:
        raise CheckFailed("no keyring backends registered (keyring's entry-point metadata is missing)")
    broken = []
    for ep in eps:
        try:
            ep.load()
        except Exception as exc:
            broken.append(f"{ep.name} ({_describe(exc)})")
    if broken:
        raise CheckFailed("keyring backends fail to load: " + "; ".join(broken))
    backend = keyring.get_keyring()
    return f"{len(eps)} backends registered, in use: {type(backend).__module__}.{type(backend).__name__}"


def check_keyring_store() -> str:
    """Store, read back and delete a password through netgui's Secrets.

    Not run by default (it writes to the user's keyring, which may ask to be unlocked):
    ``--only keyring-store``. CI runs it against a throwaway gnome-keyring.
    """
    from netgui.config import Secrets

    secrets = Secrets()
    if not secrets.persistent:
        raise CheckFailed(f"passwords cannot be kept in the system keyring: {secrets.problem}")
    account = f"selftest/{os.getpid()}/password"
    value = os.urandom(12).hex()
    secrets.set(account, value)
    try:
        if Secrets().get(account) != value:
            raise CheckFailed("the keyring did not give back the password stored in it")
    finally:
        secrets.delete(account)
    if Secrets().get(account) is not None:
        raise CheckFailed("the keyring still has a password after deleting it")
    backend = secrets._keyring()
    return f"stored, read back and deleted through {type(backend).__module__}"


def check_tls() -> str:
    """A client TLS context has CA certificates to verify servers with."""
    import ssl

    from netgui.net import connection

    ctx = connection.tls_context()
    if ctx.verify_mode != ssl.CERT_REQUIRED or not ctx.check_hostname:
        raise CheckFailed("the default TLS context does not verify certificates")
    if getattr(sys, "frozen", False):
        # the executable must carry certifi's bundle for systems without a CA store
        try:
            import certifi
            ssl.create_default_context(cafile=certifi.where())
        except (ImportError, OSError, ssl.SSLError) as exc:
            raise CheckFailed(f"the executable's CA bundle (certifi) is missing or broken: {exc}") from exc
    if os.environ.get("NETGUI_CA_FILE"):
        return "CA certificates from $NETGUI_CA_FILE"
    if connection._has_default_ca_paths():
        return "the system's CA store"
    if ctx.get_ca_certs():
        return f"{len(ctx.get_ca_certs())} CA certificates from certifi"
    raise CheckFailed("no CA certificates: the system has none and certifi is not bundled")


def check_assets() -> None:
    """The icon (and the rest of netgui/assets) is present and decodes."""
    from PIL import Image

    from netgui.desktop import ICON_SIZES, icon_file

    for size in ICON_SIZES:
        path = icon_file(size)
        if not path.is_file():
            raise CheckFailed(f"asset missing: {path}")
        with Image.open(path) as img:
            if img.size != (size, size):
                raise CheckFailed(f"asset {path.name} is {img.size[0]}x{img.size[1]}, not {size}x{size}")


def check_window() -> None:
    """The main window opens with the Sun Valley theme, builds every tab, and quits."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        raise CheckFailed("no display: set DISPLAY (for example run it under xvfb-run)")
    import tkinter
    from tkinter import ttk

    app_module = _import("netgui.app", "the main window (netgui.app)")
    try:
        app = app_module.App()
    except tkinter.TclError as exc:
        raise CheckFailed(f"cannot open the main window: {exc}") from exc
    root = app.root
    try:
        deadline = time.monotonic() + WINDOW_TIMEOUT
        while not root.winfo_ismapped():
            root.update()
            if time.monotonic() > deadline:
                raise CheckFailed(f"the main window was not shown within {WINDOW_TIMEOUT:.0f} s")
            time.sleep(0.01)
        theme = ttk.Style(root).theme_use()
        if not theme.startswith("sun-valley"):
            raise CheckFailed(f"the Sun Valley theme did not load (theme in use: {theme})")
        broken = []
        for index, spec in enumerate(app.tab_specs):
            app.select_tab(index)  # selecting a tab imports and builds it
            root.update()
            if app.tab(spec.key) is None:
                broken.append(spec.title)
        if broken:
            raise CheckFailed("these tabs could not be built: " + ", ".join(broken))
        root.update()
        if root.winfo_width() < 200 or root.winfo_height() < 150:
            raise CheckFailed(f"the main window is only {root.winfo_width()}x{root.winfo_height()} px")
    finally:
        try:
            app.quit(ask=False)
        except Exception:
            try:
                root.destroy()
            except Exception:
                pass


def check_getfile() -> str:
    """Serve a temporary folder with the bundled getfile server and fetch a file from it."""
    server_mod = _import("netgui.servers.getfile", "the getfile server")
    client_mod = _import("netgui.net.getfile.client", "the getfile client")
    payload = os.urandom(200_000) + b"netgui self-test\n"
    with tempfile.TemporaryDirectory(prefix="netgui-selftest-") as tmp:
        root = Path(tmp, "served")
        dest = Path(tmp, "downloads")
        root.mkdir()
        dest.mkdir()
        (root / "hello.bin").write_bytes(payload)
        server = server_mod.GetfileServer(root, port=0)
        server.start()
        try:
            port = server.port
            box = {}

            def fetch() -> None:
                box["result"] = client_mod.fetch("127.0.0.1", port, "hello.bin", dest,
                                                 timeout=NET_TIMEOUT)

            _with_timeout(fetch, NET_TIMEOUT, "the getfile download")
        finally:
            server.stop()
        result = box["result"]
        got = Path(result.path)
        if got.parent != dest or not got.is_file():
            raise CheckFailed(f"the getfile download did not land in the chosen folder ({got})")
        data = got.read_bytes()
        if data != payload:
            raise CheckFailed(f"the getfile download differs: {len(data)} bytes received, "
                              f"{len(payload)} sent")
        if not result.verified:
            raise CheckFailed("the getfile download was not checked against the size the server sent")
        return f"{len(data)} bytes from 127.0.0.1:{port}, verified"


def check_chat() -> None:
    """Two clients of the bundled chat server see each other's line."""
    server_mod = _import("netgui.servers.chat", "the chat server")
    client_mod = _import("netgui.net.chat.linechat", "the line chat client")
    server = server_mod.ChatServer(port=0)
    server.start()
    try:
        port = server.port

        def round_trip() -> None:
            _chat_round_trip(client_mod, port)

        _with_timeout(round_trip, NET_TIMEOUT, "the chat round trip")
    finally:
        server.stop()


def _chat_round_trip(client_mod, port: int) -> None:
    text = f"self-test {os.getpid()} {time.time():.3f}"
    alice = client_mod.LineChatClient("127.0.0.1", port, timeout=NET_TIMEOUT)
    bob = client_mod.LineChatClient("127.0.0.1", port, timeout=NET_TIMEOUT)
    try:
        for client in (alice, bob):
            greeting = client.connect()
            if not str(greeting).startswith("Welcome to the chat server"):
                raise CheckFailed(f"chat: unexpected greeting {greeting!r}")
        alice.send(text)
        for client, who in ((alice, "sender"), (bob, "other client")):
            deadline = time.monotonic() + NET_TIMEOUT
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckFailed(f"chat: the {who} never got the line relayed")
                line = client.receive(timeout=remaining)
                if line is not None and str(line).endswith(": " + text):
                    break
    finally:
        for client in (alice, bob):
            try:
                client.close()
            except Exception:
                pass


def check_dns() -> str:
    """DNS over HTTPS (httpx2 with HTTP/2) and DNSSEC (dnspython with cryptography) are
    there: a DoH client is made and a signature made here is validated."""
    import time

    import h2.connection  # noqa: F401 - HTTP/2, imported by httpcore2 only when it is used
    from cryptography.hazmat.primitives.asymmetric import ec

    import netgui.net.dns.dnssec  # noqa: F401 - loads dns.dnssec without cryptography's warning
    from netgui.net.dns.doh import DohClient

    import dns.dnssec
    import dns.name
    import dns.query
    import dns.rrset

    if not dns.query.have_doh:
        raise CheckFailed("dnspython's DNS over HTTPS support (httpx2) is missing")
    DohClient("https://dns.example/dns-query").close()
    key = ec.generate_private_key(ec.SECP256R1())
    origin = dns.name.from_text("example.")
    dnskey = dns.dnssec.make_dnskey(key.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256)
    rrset = dns.rrset.from_text("www.example.", 300, "IN", "A", "192.0.2.1")
    now = time.time()
    sig = dns.dnssec.sign(rrset, key, origin, dnskey, inception=now - 60, expiration=now + 60)
    dns.dnssec.validate_rrsig(rrset, sig, {origin: [dnskey]})
    return "DNS over HTTPS client and DNSSEC validation work"


CHECKS: list[tuple[str, Callable[[], str | None]]] = [
    ("modules", check_modules),
    ("libraries", check_libraries),
    ("dns", check_dns),
    ("keyring", check_keyring),
    ("tls", check_tls),
    ("assets", check_assets),
    ("window", check_window),
    ("getfile", check_getfile),
    ("chat", check_chat),
    ("keyring-store", check_keyring_store),
]
OPT_IN = {"keyring-store"}
"""Checks that run only when named with --only."""


def run_checks(names: list[str] | None = None) -> list[Result]:
    """Run the named checks (default all), each isolated from the others' failures."""
    results = []
    for name, fn in CHECKS:
        if (names and name not in names) or (not names and name in OPT_IN):
            continue
        start = time.monotonic()
        try:
            detail = fn() or ""
            results.append(Result(name, True, detail, time.monotonic() - start))
        except BaseException as exc:  # a check must never crash the self-test
            if isinstance(exc, KeyboardInterrupt):
                raise
            results.append(Result(name, False, _describe(exc), time.monotonic() - start))
        # Free Tk objects (images, variables) here, on the Tk thread: if a later check's
        # worker thread collected them, Tcl would abort the process.
        gc.collect()
    return results


def register(subparsers) -> None:
    """Add the ``self-test`` command (also spelled ``--self-test``)."""
    p = subparsers.add_parser(
        "self-test", help="open the window, run loopback round trips, exit 0 or print what failed",
        description="Check that this netgui (source, wheel or executable) works: open the window "
                    "and every tab, find the keyring backends, CA certificates and assets, and run "
                    "loopback round trips through the bundled getfile and chat servers. Prints one "
                    "line per failed check and exits 1, else exits 0.")
    p.add_argument("-v", "--verbose", action="store_true", help="also list the checks that passed")
    p.add_argument("--only", action="append", choices=[n for n, _ in CHECKS],
                   help="run just this check (repeatable)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the self-test; exit code 0 when every check passed, else 1."""
    if sys.stdout is None:  # a windowed executable on Windows has no console
        sys.stdout = open(os.devnull, "w")

    with tempfile.TemporaryDirectory(prefix="netgui-selftest-config-") as tmp:
        saved = {k: os.environ.get(k) for k in ("NETGUI_CONFIG_DIR", "NETGUI_DATA_DIR")}
        os.environ["NETGUI_CONFIG_DIR"] = str(Path(tmp, "config"))
        os.environ["NETGUI_DATA_DIR"] = str(Path(tmp, "data"))
        try:
            results = run_checks(args.only)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    failed = [r for r in results if not r.ok]
    for r in results:
        if not r.ok:
            print(f"FAIL {r.name}: {r.detail}", flush=True)
        elif args.verbose:
            detail = f": {r.detail}" if r.detail else ""
            print(f"ok   {r.name} ({r.seconds:.2f} s){detail}", flush=True)
    if failed:
        return 1
    frozen = " (executable)" if getattr(sys, "frozen", False) else ""
    print(f"netgui self-test passed{frozen}: {len(results)} checks", flush=True)
    return 0
