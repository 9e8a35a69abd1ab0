"""``netgui ftp``: list, fetch, send and edit files on an FTP/FTPS/SFTP server from the command line.

    netgui ftp ftp://alice@host/pub ls
    netgui ftp sftp://alice@host:2222/home/alice ls --key ~/.ssh/id_ed25519
    netgui ftp ftps://alice@host get /pub/folder -o ~/Downloads --parallel 3
    netgui ftp ftp://host put report.pdf photos/ -d /incoming
    netgui ftp ftp://alice@host rm -r /old ; mkdir /new ; mv /a /b ; cat /notes.txt

The password comes from $NETGUI_FTP_PASSWORD or a prompt, never from the command line.
SFTP: ssh-agent keys and --key are tried first; a password, key passphrase ($NETGUI_SSH_PASSPHRASE)
or keyboard-interactive answers are asked for on the terminal only when the server wants them.
Host keys are checked against ~/.ssh/known_hosts and netgui's own known_hosts; an unknown key is
asked about on the terminal (refused without one), a changed key is refused.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("ftp", help="FTP/FTPS/SFTP client (ls, get, put, rm, mkdir, mv, cat)",
                                   description=__doc__.splitlines()[0])
    _options(parser)
    parser.add_argument("url", help="ftp://[user@]host[:port][/folder], ftps:// (explicit TLS) or sftp://")
    parser.add_argument("action", choices=ACTIONS)
    # Paths and options may be mixed after the action (``rm -r /old``): parsed again in run().
    parser.add_argument("rest", nargs=argparse.REMAINDER, metavar="paths and options")
    parser.set_defaults(func=run)


ACTIONS = ("ls", "get", "put", "rm", "mkdir", "mv", "cat")


def _options(parser, defaults: bool = True) -> None:
    def default(value):
        return value if defaults else argparse.SUPPRESS
    parser.add_argument("-o", "--output", default=default("."), help="local folder for get (default: here)")
    parser.add_argument("-d", "--dest", default=default(None), help="remote folder for put (default: the URL's)")
    parser.add_argument("-r", "--recursive", action="store_true", default=default(False),
                        help="rm: delete folders with contents")
    parser.add_argument("--tls", choices=("none", "explicit", "implicit"), default=default(None),
                        help="TLS mode (ftps:// means explicit)")
    parser.add_argument("--active", action="store_true", default=default(False),
                        help="active mode (PORT) instead of passive")
    parser.add_argument("--encoding", default=default("utf-8"), help="encoding of file names on the server")
    parser.add_argument("--insecure", action="store_true", default=default(False),
                        help="do not verify the TLS certificate")
    parser.add_argument("--cafile", default=default(None), help="extra CA certificates (PEM)")
    parser.add_argument("--timeout", type=float, default=default(15.0))
    parser.add_argument("--parallel", type=int, default=default(2), help="transfers at once, 1-4 (get, put)")
    parser.add_argument("--if-exists", choices=("overwrite", "resume", "rename", "skip"), default=default("skip"),
                        help="when the target exists (get, put); default: skip")
    parser.add_argument("-v", "--verbose", action="store_true", default=default(False),
                        help="print the transcript on stderr")
    parser.add_argument("--key", default=default(None), help="SFTP: private key file (OpenSSH format)")
    parser.add_argument("--auth", choices=("auto", "agent", "key", "password", "keyboard-interactive"),
                        default=default("auto"), help="SFTP: how to log in (default: agent, key, then password)")
    parser.add_argument("--no-agent", action="store_true", default=default(False),
                        help="SFTP: do not use ssh-agent")


def _reparse(args) -> None:
    """Options given after the action override those given before it."""
    parser = argparse.ArgumentParser(prog=f"netgui ftp URL {args.action}")
    _options(parser, defaults=False)
    parser.add_argument("paths", nargs="*")
    parser.parse_intermixed_args(args.rest, namespace=args)
    if not hasattr(args, "paths"):
        args.paths = []


def site_from_url(url: str, args):
    """An FtpSite from an ftp:// or ftps:// URL (the password from the environment or a prompt)."""
    from urllib.parse import unquote, urlsplit

    from netgui.net.ftp.client import FtpSite
    parts = urlsplit(url)
    if parts.scheme == "sftp" and parts.hostname:
        return sftp_site_from_url(parts, args)
    if parts.scheme not in ("ftp", "ftps") or not parts.hostname:
        raise ValueError(f"not an ftp://, ftps:// or sftp:// URL: {url}")
    tls = args.tls or ("explicit" if parts.scheme == "ftps" else "none")
    user = unquote(parts.username) if parts.username else "anonymous"
    password = os.environ.get("NETGUI_FTP_PASSWORD", "")
    if user != "anonymous" and not password:
        if parts.password:
            print("netgui ftp: ignoring the password in the URL; use $NETGUI_FTP_PASSWORD", file=sys.stderr)
        import getpass
        password = getpass.getpass(f"Password for {user}@{parts.hostname}: ")
    port = parts.port or (990 if tls == "implicit" else 21)
    return FtpSite(parts.hostname, port, user=user, password=password, tls=tls, passive=not args.active,
                   encoding=args.encoding, verify=not args.insecure, cafile=args.cafile,
                   timeout=args.timeout, initial_dir=unquote(parts.path) or "")


def sftp_site_from_url(parts, args):
    """An SftpSite from a parsed sftp:// URL. Nothing is prompted here: secrets are asked for
    only when the server wants them (see ``_terminal_callbacks``)."""
    import getpass
    from urllib.parse import unquote

    from netgui.net.ftp.sftp import SftpSite
    if parts.password:
        print("netgui ftp: ignoring the password in the URL; use $NETGUI_FTP_PASSWORD", file=sys.stderr)
    user = unquote(parts.username) if parts.username else getpass.getuser()
    return SftpSite(parts.hostname, parts.port or 22, user=user,
                    password=os.environ.get("NETGUI_FTP_PASSWORD", ""),
                    key_file=os.path.expanduser(args.key) if args.key else None,
                    key_passphrase=os.environ.get("NETGUI_SSH_PASSPHRASE", ""),
                    auth=args.auth, use_agent=not args.no_agent, timeout=args.timeout, encoding=args.encoding,
                    initial_dir=unquote(parts.path) or "")


def _terminal_callbacks() -> dict:
    """Host-key question, password, passphrase and keyboard-interactive prompts on the terminal."""
    import getpass

    from netgui.config import config_dir
    from netgui.net.ftp.hostkeys import ALWAYS, ONCE, KnownHosts
    interactive = sys.stdin.isatty()

    def ask_host_key(question):
        if not interactive:
            print(f"netgui ftp: {question.text()}\nnetgui ftp: not asking without a terminal; refusing",
                  file=sys.stderr)
            return None
        print(question.text(), file=sys.stderr)
        answer = input("Continue connecting (yes = this time / always / no)? ").strip().lower()
        return {"yes": ONCE, "y": ONCE, "always": ALWAYS}.get(answer)

    def ask_password(user, host):
        return getpass.getpass(f"Password for {user}@{host}: ") if interactive else None

    def ask_passphrase(path, problem):
        if problem and interactive:
            print(problem, file=sys.stderr)
        return getpass.getpass(f"Passphrase for {path}: ") if interactive else None

    def ask_kbdint(name, instructions, prompts):
        if not interactive:
            return None
        for line in (name, instructions):
            if line:
                print(line, file=sys.stderr)
        return [input(text) if echo else getpass.getpass(text) for text, echo in prompts]

    return dict(known_hosts=KnownHosts(config_dir() / "known_hosts"), ask_host_key=ask_host_key,
                ask_password=ask_password, ask_passphrase=ask_passphrase, ask_kbdint=ask_kbdint)


def run(args) -> int:
    from netgui.net.errors import NetError
    from netgui.net.ftp.client import FtpClient
    _reparse(args)
    try:
        site = site_from_url(args.url, args)
    except ValueError as exc:
        print(f"netgui ftp: {exc}", file=sys.stderr)
        return 2
    log = (lambda d, t: print(f"{d} {t}", file=sys.stderr)) if args.verbose else (lambda d, t: None)
    if site.protocol == "sftp":
        from netgui.net.ftp.sftp import SftpClient
        client = SftpClient(site, log=log, **_terminal_callbacks())
    else:
        client = FtpClient(site, log=log)
    try:
        return _act(client, site, args, log)
    except NetError as exc:
        print(f"netgui ftp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()


def _act(client, site, args, log) -> int:
    from netgui.fmt import human_bytes
    from netgui.net.ftp.client import DIR, remote_join
    from netgui.net.ftp.listing import display_name
    paths = args.paths
    if args.action == "ls":
        for entry in client.listdir(paths[0] if paths else None):
            size = "" if entry.kind == DIR else human_bytes(entry.size)
            suffix = "/" if entry.kind == DIR else (f" -> {entry.target}" if entry.target else "")
            print(f"{entry.perms or '-':<11} {size:>10}  {entry.modified_text():<16}  "
                  f"{display_name(entry.name)}{suffix}")
        return 0
    if args.action == "cat":
        for path in paths:
            text, truncated = client.read_text(path, limit=16 << 20)
            sys.stdout.write(text)
            if truncated:
                print(f"\nnetgui ftp: {path} is longer than 16 MiB; only the start is shown", file=sys.stderr)
        return 0
    if args.action == "mkdir":
        for path in paths:
            client.ensure_dir(path)
        return 0
    if args.action == "mv":
        if len(paths) != 2:
            print("netgui ftp: mv needs a source and a target", file=sys.stderr)
            return 2
        client.rename(paths[0], paths[1])
        return 0
    if args.action == "rm":
        for path in paths:
            entry = client.exists(path)
            if entry is None:
                print(f"netgui ftp: {path}: no such file or folder", file=sys.stderr)
                return 1
            if entry.kind == DIR and not args.recursive:
                print(f"netgui ftp: {path} is a folder; use -r to delete it with its contents", file=sys.stderr)
                return 1
            client.delete(path, entry.kind)
        return 0
    return _transfer(client, site, args, log, remote_join)


def _transfer(client, site, args, log, remote_join) -> int:
    from netgui.net.ftp.client import DIR
    from netgui.net.ftp.queue import DONE, FAILED, ClientPool, QueueRunner, TransferQueue
    queue = TransferQueue(concurrency=args.parallel)
    batch = queue.new_batch(args.if_exists)
    if args.action == "get":
        for path in args.paths:
            entry = client.exists(path)
            if entry is None:
                print(f"netgui ftp: {path}: no such file or folder", file=sys.stderr)
                return 1
            queue.add_download(path, args.output, size=entry.size, is_dir=entry.kind == DIR, batch=batch,
                               name=entry.name, modified=entry.modified)
    else:
        target = args.dest or client.connect()
        for path in args.paths:
            if not os.path.exists(path):
                print(f"netgui ftp: {path}: no such local file or folder", file=sys.stderr)
                return 1
            queue.add_upload(path, target, batch=batch)
    factory = None
    if site.protocol == "sftp":
        from netgui.net.ftp.sftp import pool_factory
        factory = pool_factory(client)          # transfers log in with what this login learnt
    pool = ClientPool(site, size=queue.concurrency, log=log, factory=factory)
    try:
        QueueRunner(queue, pool, log=log).run()
    finally:
        pool.close()
    failed = 0
    for item in queue.items:
        if item.is_dir:
            continue
        where = item.local if item.direction == "download" else item.remote
        if item.state == FAILED:
            failed += 1
            print(f"failed  {where}: {item.error}", file=sys.stderr)
        else:
            print(f"{'ok' if item.state == DONE else item.state:<7} {where}")
    return 1 if failed else 0
