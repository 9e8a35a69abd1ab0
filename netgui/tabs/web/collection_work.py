"""What the Web tab's collection pieces run in the task runner's threads (files, keyring, runs).

Nothing here touches a widget; each function takes the TaskContext first.
"""

from __future__ import annotations

from pathlib import Path

from netgui.net.errors import LocalFileError
from netgui.net.http.collection import (
    Collection,
    HttpEntry,
    load_collection,
    save_entry,
    save_text,
    snapshot,
    unique_path,
)
from netgui.net.http.importers import SecretNamer, detect, extract_secrets, write_import
from netgui.net.http.runner import run_items
from netgui.net.http.session import HttpSession
from netgui.net.http.variables import (
    SHARED,
    Environment,
    declare_variables,
    load_environments,
    save_environments,
    secret_account,
)


def load(ctx, root: Path) -> tuple[Collection, dict]:
    """The collection and the snapshot it was read at (the snapshot first: an edit made
    while reading shows up as a change at the next look)."""
    seen = snapshot(root)
    return load_collection(root), seen


def look(ctx, root: Path) -> dict:
    """The collection's snapshot (file names, times and sizes), for noticing outside edits."""
    return snapshot(root)


def _secret_names(environments: dict[str, Environment], env_name: str | None) -> list[tuple[str, str]]:
    return [(env, v.name) for env in (env_name, SHARED) if env and env in environments
            for v in environments[env].variables if v.secret]


def load_secrets(ctx, secrets, root: Path, environments: dict[str, Environment],
                 env_name: str | None) -> dict[str, str]:
    """The values of the secret variables of an environment (and ``$shared``) from the keyring."""
    values: dict[str, str] = {}
    for env, name in reversed(_secret_names(environments, env_name)):  # the environment wins
        value = secrets.get(secret_account(root, env, name))
        if value is not None:
            values[name] = value
    return values


def save_request(ctx, secrets, root: Path, path: str, index: int | None, entry: HttpEntry,
                 expected: str | None, env_name: str | None, known: dict[str, str]):
    """Write a request into its file, its credentials into secret variables first. With
    ``index`` None the request goes into a new file: ``path``, or ``name-2.http``… if taken.

    Returns (path, new text of the file, {name: value} of secrets taken out, environment).
    """
    if index is None:
        target = unique_path((root / path).parent, Path(path).stem, Path(path).suffix)
        path, expected = target.relative_to(root).as_posix(), ""
    environments = load_environments(root)
    taken = {v.name for env in environments.values() for v in env.variables}
    namer = SecretNamer({value: name for name, value in known.items()}, taken)
    entry = extract_secrets(entry, namer)
    env_name = env_name or next((n for n in environments if n != SHARED), None) or "Default"
    if namer.found:
        _store(secrets, root, env_name, namer.found)
        declare_variables(root, env_name, namer.found)
    text = save_entry(root, path, index, entry, expected)
    return path, text, dict(namer.found), env_name


def _store(secrets, root: Path, env_name: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        secrets.set(secret_account(root, env_name, name), value)


def save_file_text(ctx, root: Path, path: str, text: str, expected: str | None) -> str:
    save_text(root, path, text, expected)
    return text


def save_envs(ctx, secrets, root: Path, environments: list[Environment],
              secret_values: dict[tuple[str, str], str | None]) -> None:
    """Write the environments file, then the secrets: a value stores it, None deletes it."""
    try:
        save_environments(root, environments)
    except OSError as exc:
        raise LocalFileError(f"Cannot write the environments: {exc.strerror or exc}") from exc
    for (env, name), value in secret_values.items():
        account = secret_account(root, env, name)
        if value is None:
            secrets.delete(account)
        else:
            secrets.set(account, value)


def read_import(ctx, path: str | None, text: str):
    """Read and recognise what is to be imported (a file, or pasted text)."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise LocalFileError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    return detect(text)


def write_imported(ctx, secrets, root: Path, folder: str, imported, env_name: str | None,
                   known: dict[str, str]):
    written = write_import(root, folder, imported, env_name, {v: n for n, v in known.items()})
    _store(secrets, root, written.environment, written.secrets)
    return written


def run_collection(ctx, items, resolver_for, folder_of, workers: int):
    """Run requests, posting ("started", index) and ("finished", (index, result)) events."""
    session = HttpSession()
    try:
        return run_items(items, session, resolver_for, folder_of, workers=workers, token=ctx.token,
                         started=lambda index: ctx.event("started", index),
                         finished=lambda index, result: ctx.event("finished", (index, result)))
    finally:
        session.close()
