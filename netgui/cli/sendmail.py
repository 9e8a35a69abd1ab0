"""``netgui send-mail``: send a message from a mail account without the window, or flush the Outbox.

    netgui send-mail --account work --to bob@example.org --subject "Report" \\
        --attach report.pdf < body.txt
    netgui send-mail --outbox          # retry everything waiting in the Outbox

The account (and its password, from the keyring) is the one set up in the Mail
tab. A message that cannot be sent stays in the Outbox, as in the window.
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("send-mail", help="send a message (or the Outbox) with a mail account",
                       description=__doc__.splitlines()[0])
    p.add_argument("--account", help="the mail account to send from (default: the first one)")
    p.add_argument("--to", action="append", default=[], help="recipient(s); repeat or use commas")
    p.add_argument("--cc", action="append", default=[])
    p.add_argument("--bcc", action="append", default=[])
    p.add_argument("--subject", default="")
    p.add_argument("--body-file", help="the text of the message (default: standard input)")
    p.add_argument("--attach", action="append", default=[], metavar="FILE")
    p.add_argument("--outbox", action="store_true", help="send what waits in the Outbox instead")
    p.add_argument("-v", "--verbose", action="store_true", help="print the SMTP transcript")
    p.set_defaults(func=run)


def run(args) -> int:
    from netgui.config import Secrets, Settings
    from netgui.net.cancel import CancelToken
    from netgui.net.errors import NetError
    from netgui.net.mail import accounts, compose, outbox, signin

    settings, secrets = Settings(), Secrets()
    known = accounts.load_accounts(settings)
    token = CancelToken()

    def log(direction: str, text: str) -> None:
        if args.verbose:
            print(f"{direction} {text}", file=sys.stderr)

    def send(item: str, name: str) -> bool:
        profile = known.get(name)
        if profile is None:
            print(f"netgui: no mail account named {name!r}", file=sys.stderr)
            return False
        smtp_pw = accounts.smtp_password(secrets, name) if profile["smtp_auth"] else None
        try:  # an OAuth2 account sends with the sign-in kept in the keyring
            tokens = signin.token_manager(settings, secrets, name, profile) \
                if signin.uses_oauth(profile) else None
            result = outbox.deliver(item, profile, smtp_password=smtp_pw,
                                    incoming_password=accounts.incoming_password(secrets, name),
                                    token=token, log=log, tokens=tokens)
        except NetError as exc:
            hint = " (sign in again in the Mail tab)" if accounts.needs_sign_in(exc) else ""
            print(f"netgui: {exc}{hint} (the message waits in the Outbox)", file=sys.stderr)
            return False
        where = result.sent_to.removeprefix("imap:") if result.sent_to != "local" else "local Sent"
        print(f"Sent to {len(result.recipients)} recipient(s); copy in {where}")
        return True

    if args.outbox:
        items = outbox.stores().outbox.items()
        ok = [send(m["id"], m.get("account", "")) for m in reversed(items)]
        print(f"{sum(ok)} of {len(ok)} message(s) sent")
        return 0 if all(ok) else 1

    name = args.account or next(iter(known), None)
    if name not in known:
        print(f"netgui: no mail account {name!r}; set one up in the Mail tab" if name else
              "netgui: no mail account; set one up in the Mail tab", file=sys.stderr)
        return 2
    if args.body_file:
        with open(args.body_file, encoding="utf-8") as f:
            body = f.read()
    else:
        body = sys.stdin.read()
    try:
        draft = compose.Draft(account=name, sender=compose.sender_for(known[name]),
                              to=", ".join(args.to), cc=", ".join(args.cc),
                              bcc=", ".join(args.bcc), subject=args.subject,
                              body=body + compose.signature_block(known[name]["signature"]),
                              attachments=[compose.Attachment.from_path(p) for p in args.attach])
        item = outbox.queue(draft)
    except (compose.ComposeError, OSError) as exc:
        print(f"netgui: {exc}", file=sys.stderr)
        return 2
    return 0 if send(item, name) else 1
