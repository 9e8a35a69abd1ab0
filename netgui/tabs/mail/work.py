"""Work the compose and Outbox windows run in task-runner workers (no widgets here)."""

from __future__ import annotations

from netgui.net.errors import NetError
from netgui.net.mail import accounts, outbox, signin
from netgui.net.mail.compose import Attachment, ComposeError, Draft


def _passwords(secrets, name: str, profile: dict) -> tuple[str | None, str | None]:
    incoming = accounts.incoming_password(secrets, name)
    smtp = accounts.smtp_password(secrets, name) if profile.get("smtp_auth", True) else None
    return smtp, incoming


def _tokens(settings, secrets, name: str, profile: dict):
    """The account's shared TokenManager when it signs in with OAuth2, else None."""
    if not signin.uses_oauth(profile):
        return None
    return signin.token_manager(settings, secrets, name, profile)


def send_draft(ctx, draft: Draft, profile: dict, settings, secrets, password: str | None = None,
               remember: bool = False) -> outbox.Delivery:
    """Worker: queue ``draft`` in the Outbox, then deliver it (see ``deliver_item``)."""
    try:
        item = outbox.queue(draft)
    except ComposeError as exc:
        raise NetError(str(exc)) from exc
    ctx.status("Queued in the Outbox")
    return deliver_item(ctx, item, profile, settings, secrets, draft.account, password, remember)


def deliver_item(ctx, item: str, profile: dict, settings, secrets, name: str,
                 password: str | None = None, remember: bool = False) -> outbox.Delivery:
    """Worker: send one Outbox item with the account ``name``: with the SMTP ``password``
    the user just typed (kept in the keyring only if ``remember`` and the server took it),
    else the stored one; PasswordNeeded when there is none. An OAuth2 account sends with
    its access token instead."""
    smtp_password, incoming_password = _passwords(secrets, name, profile)
    if password is not None:
        smtp_password = password
    oauth_smtp = profile.get("smtp_auth_method") == "oauth2"
    try:
        tokens = _tokens(settings, secrets, name, profile)
    except NetError as exc:
        outbox.stores().outbox.update(item, state="failed", error=str(exc))
        raise
    if profile.get("smtp_auth", True) and not oauth_smtp and not smtp_password:
        error = accounts.PasswordNeeded(f"No password is stored for sending from {name}")
        outbox.stores().outbox.update(item, state="failed", error=str(error))
        raise error
    delivery = outbox.deliver(item, profile, smtp_password=smtp_password,
                              incoming_password=incoming_password, token=ctx.token, log=ctx.log,
                              progress=ctx.progress, status=ctx.status, tokens=tokens)
    if remember and password:
        secrets.set(accounts.secret_key(name, "smtp"), password)
    return delivery


def deliver_many(ctx, items: list[tuple[str, str]], settings, secrets,
                 passwords: dict[str, tuple[str, bool]] | None = None
                 ) -> tuple[int, list[str], dict[str, NetError]]:
    """Worker: retry several Outbox items (with typed ``passwords``: account -> (password,
    remember)); returns the sent count, one error line per failure, and the accounts whose
    SMTP password (or OAuth2 sign-in) is missing or was refused (their other items are not
    tried with it)."""
    sent, errors, refused = 0, [], {}
    for item, name in items:
        ctx.check()
        profile = accounts.load_account(settings, name)
        if profile is None:
            errors.append(f"The account {name!r} no longer exists")
            outbox.stores().outbox.update(item, state="failed", error=errors[-1])
            continue
        if name in refused:  # one refused login per account: more could lock it
            errors.append(str(refused[name]))
            continue
        try:
            deliver_item(ctx, item, profile, settings, secrets, name,
                         *(passwords or {}).get(name, ()))
            sent += 1
        except NetError as exc:
            if ctx.cancelled:
                raise
            errors.append(str(exc))
            if accounts.needs_password(exc) or accounts.needs_sign_in(exc):
                refused[name] = exc
    return sent, errors, refused


def save_draft_everywhere(ctx, draft: Draft, profile: dict | None, settings, secrets) -> str:
    """Worker: save locally and, for an IMAP account, in its Drafts folder."""
    outbox.save_draft(draft)
    if profile and profile.get("incoming_protocol") == "imap" and profile.get("incoming_host"):
        ctx.status("Saving in the IMAP Drafts folder")
        folder = outbox.save_draft_to_imap(draft, profile,
                                           accounts.incoming_password(secrets, draft.account),
                                           token=ctx.token, log=ctx.log,
                                           tokens=_tokens(settings, secrets, draft.account, profile))
        return f"Draft saved here and in {folder} on the server"
    return "Draft saved"


def save_draft_local(ctx, draft: Draft) -> None:
    outbox.save_draft(draft)


def sign_in(ctx, config, mode: str, login_hint: str | None, open_browser):
    """Worker: an OAuth2 sign-in, in the browser (``mode`` "browser") or with a code typed on
    another device ("device"). Events for the window: ("url", address) to show and copy,
    ("no-browser", None) when no browser could be opened, ("device-code", DeviceCode)."""
    from netgui.net.mail import oauth  # Authlib loads only for accounts that sign in with it
    if mode == "device":
        return oauth.sign_in_device(config, lambda code: ctx.event("device-code", code),
                                    token=ctx.token, log=ctx.log)

    def opener(url: str) -> bool:
        try:
            opened = bool(open_browser(url))
        except Exception:  # a broken browser launcher is "no browser"
            opened = False
        if not opened:
            ctx.event("no-browser")
        return opened

    return oauth.sign_in_browser(config, token=ctx.token, log=ctx.log, open_browser=opener,
                                 login_hint=login_hint, show_url=lambda url: ctx.event("url", url))


def discover(ctx, discovery, email: str):
    """Worker: find an address's servers (autoconfig.Discovery); progress as ("step", (step,
    text)) events for the wizard's rows."""
    return discovery.discover(email, token=ctx.token, log=ctx.log,
                              progress=lambda step, text: ctx.event("step", (step, text)))


def test_and_save(ctx, settings, secrets, name: str, profile: dict, *, password: str | None,
                  config=None, grant=None, provider_entry: dict | None = None,
                  client: str | None = None, secret: str | None = None) -> dict:
    """Worker, the wizard's last step: log in to the incoming and outgoing servers (with the
    fresh OAuth2 ``grant``, held in memory only), then save the account all or nothing."""
    tokens = None
    if grant is not None:
        from netgui.net.mail import oauth
        tokens = oauth.TokenManager(name, config, oauth.MemoryStore())  # not the keyring yet
        tokens.adopt(grant)
    signin.check_login(profile, password=password, tokens=tokens, token=ctx.token, log=ctx.log,
                       status=ctx.status)
    ctx.check()
    ctx.status(f"Saving {name}")
    refresh = tokens.current.refresh_token if tokens is not None and tokens.current else None
    saved = signin.save_new_account(settings, secrets, name, profile, incoming_password=password,
                                    refresh_token=refresh, provider_entry=provider_entry,
                                    client=client, secret=secret)
    if tokens is not None and tokens.current is not None:  # the access token stays usable
        signin.token_manager(settings, secrets, name, saved).adopt(tokens.current)
    return saved


def read_attachments(ctx, paths: list[str]) -> list[Attachment]:
    out = []
    for path in paths:
        ctx.check()
        try:
            out.append(Attachment.from_path(path))
        except OSError as exc:
            raise NetError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    return out
