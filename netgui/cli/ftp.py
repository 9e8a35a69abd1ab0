"""``netgui ftp``: list, fetch, send and edit files on an FTP/FTPS server from the command line.

    netgui ftp ftp://alice@host/pub ls
    netgui ftp ftps://alice@host get /pub/folder -o ~/Downloads --parallel 3
    netgui ftp ftp://host put report.pdf photos/ -d /incoming
    netgui ftp ftp://alice@host rm -r /old ; mkdir /new ; mv /a /b ; cat /notes.txt

The password comes from $NETGUI_FTP_PASSWORD or a prompt, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("ftp", help="FTP/FTPS client (ls, get, put, rm, mkdir, mv, cat)",
                                   description=__doc__.splitlines()[0])
    _options(parser)
    parser.add_argument("url", help="ftp://[user@]host[:port][/folder] or ftps:// (explicit TLS)")
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
    if parts.scheme not in ("ftp", "ftps") or not parts.hostname:
        raise ValueError(f"not an ftp:// or ftps:// URL: {url}")
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
    pool = ClientPool(site, size=queue.concurrency, log=log)
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
