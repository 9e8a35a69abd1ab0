"""Work the compose and Outbox windows run in task-runner workers (no widgets here)."""

from __future__ import annotations

from netgui.net.errors import NetError
from netgui.net.mail import accounts, outbox
from netgui.net.mail.compose import Attachment, ComposeError, Draft


def _passwords(secrets, name: str, profile: dict) -> tuple[str | None, str | None]:
    incoming = accounts.incoming_password(secrets, name)
    smtp = accounts.smtp_password(secrets, name) if profile.get("smtp_auth", True) else None
    return smtp, incoming


def send_draft(ctx, draft: Draft, profile: dict, secrets, password: str | None = None,
               remember: bool = False) -> outbox.Delivery:
    """Worker: queue ``draft`` in the Outbox, then deliver it (see ``deliver_item``)."""
    try:
        item = outbox.queue(draft)
    except ComposeError as exc:
        raise NetError(str(exc)) from exc
    ctx.status("Queued in the Outbox")
    return deliver_item(ctx, item, profile, secrets, draft.account, password, remember)


def deliver_item(ctx, item: str, profile: dict, secrets, name: str, password: str | None = None,
                 remember: bool = False) -> outbox.Delivery:
    """Worker: send one Outbox item with the account ``name``: with the SMTP ``password``
    the user just typed (kept in the keyring only if ``remember`` and the server took it),
    else the stored one; PasswordNeeded when there is none."""
    smtp_password, incoming_password = _passwords(secrets, name, profile)
    if password is not None:
        smtp_password = password
    if profile.get("smtp_auth", True) and not smtp_password:
        error = accounts.PasswordNeeded(f"No password is stored for sending from {name}")
        outbox.stores().outbox.update(item, state="failed", error=str(error))
        raise error
    delivery = outbox.deliver(item, profile, smtp_password=smtp_password,
                              incoming_password=incoming_password, token=ctx.token, log=ctx.log,
                              progress=ctx.progress, status=ctx.status)
    if remember and password:
        secrets.set(accounts.secret_key(name, "smtp"), password)
    return delivery


def deliver_many(ctx, items: list[tuple[str, str]], settings, secrets,
                 passwords: dict[str, tuple[str, bool]] | None = None
                 ) -> tuple[int, list[str], dict[str, NetError]]:
    """Worker: retry several Outbox items (with typed ``passwords``: account -> (password,
    remember)); returns the sent count, one error line per failure, and the accounts whose
    SMTP password is missing or was refused (their other items are not tried with it)."""
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
            deliver_item(ctx, item, profile, secrets, name, *(passwords or {}).get(name, ()))
            sent += 1
        except NetError as exc:
            if ctx.cancelled:
                raise
            errors.append(str(exc))
            if accounts.needs_password(exc):
                refused[name] = exc
    return sent, errors, refused


def save_draft_everywhere(ctx, draft: Draft, profile: dict | None, secrets) -> str:
    """Worker: save locally and, for an IMAP account, in its Drafts folder."""
    outbox.save_draft(draft)
    if profile and profile.get("incoming_protocol") == "imap" and profile.get("incoming_host"):
        ctx.status("Saving in the IMAP Drafts folder")
        folder = outbox.save_draft_to_imap(draft, profile,
                                           accounts.incoming_password(secrets, draft.account),
                                           token=ctx.token, log=ctx.log)
        return f"Draft saved here and in {folder} on the server"
    return "Draft saved"


def save_draft_local(ctx, draft: Draft) -> None:
    outbox.save_draft(draft)


def read_attachments(ctx, paths: list[str]) -> list[Attachment]:
    out = []
    for path in paths:
        ctx.check()
        try:
            out.append(Attachment.from_path(path))
        except OSError as exc:
            raise NetError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    return out
