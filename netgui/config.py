"""Settings and profiles (JSON in the platform's config folder) and secrets (keyring).

Settings are written atomically: a temp file in the same folder, flushed and
fsynced, then renamed over the old file, so a crash mid-write leaves either the
old or the new file, never a torn one. Passwords never go into settings: they
go to the OS keyring, or, where no usable keyring exists, into memory for this
session only (``Secrets.persistent`` is then False and the UI says so).
"""

from __future__ import annotations

import copy
import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from . import APP_NAME

SETTINGS_FILE = "settings.json"
SECRET_HINTS = ("password", "passwd", "secret", "token")


def config_dir() -> Path:
    """The folder for settings: $NETGUI_CONFIG_DIR, else the platform's config dir."""
    override = os.environ.get("NETGUI_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The folder for data (caches of mail, history): $NETGUI_DATA_DIR or the platform's."""
    override = os.environ.get("NETGUI_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def looks_secret(key: str) -> bool:
    """True for keys whose values must never be written to a settings file."""
    lowered = key.lower()
    return any(hint in lowered for hint in SECRET_HINTS)


class Settings:
    """A JSON document of settings, remembered form values and named profiles.

    Layout: ``{"app": {...}, "forms": {key: {...}}, "profiles": {kind: {name: {...}}}}``.
    Values that look like secrets (see ``looks_secret``) are refused.
    """

    def __init__(self, path: Path | None = None, background: bool = False):
        """``background=True`` (the GUI) writes from a helper thread, so saving never
        blocks the window on fsync; call ``flush()`` before exiting."""
        self.path = Path(path) if path else config_dir() / SETTINGS_FILE
        self.background = background
        self._lock = threading.RLock()
        self._data: dict[str, Any] = self._load()
        self._pending: str | None = None
        self._writer: threading.Thread | None = None
        self._idle = threading.Condition()

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError:
            return {}
        try:
            data = json.loads(raw)
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
        # Keep the unreadable file for the user instead of overwriting it silently.
        try:
            os.replace(self.path, self.path.with_suffix(".json.bad"))
        except OSError:
            pass
        return {}

    def save(self) -> None:
        with self._lock:
            text = json.dumps(self._data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if not self.background:
            atomic_write_text(self.path, text)
            return
        with self._idle:
            self._pending = text  # the newest snapshot replaces any not yet written
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_pending, name="netgui-settings",
                                                daemon=True)
                self._writer.start()

    def _write_pending(self) -> None:
        while True:
            with self._idle:
                text, self._pending = self._pending, None
                if text is None:
                    self._writer = None
                    self._idle.notify_all()
                    return
            try:
                atomic_write_text(self.path, text)
            except OSError as exc:  # keep the window alive; the next save tries again
                print(f"netgui: cannot save settings: {exc}", file=sys.stderr)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every save so far is on disk."""
        with self._idle:
            self._idle.wait_for(lambda: self._writer is None, timeout)

    # -- plain settings -------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return copy.deepcopy(self._data.get("app", {}).get(key, default))

    def set(self, key: str, value: Any, *, save: bool = True) -> None:
        self._refuse_secret(key)
        with self._lock:
            self._data.setdefault("app", {})[key] = copy.deepcopy(value)
        if save:
            self.save()

    # -- remembered form values ------------------------------------------
    def form_values(self, key: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data.get("forms", {}).get(key, {}))

    def set_form_values(self, key: str, values: dict[str, Any]) -> None:
        clean = {k: v for k, v in values.items() if not looks_secret(k)}
        with self._lock:
            self._data.setdefault("forms", {})[key] = copy.deepcopy(clean)
        self.save()

    # -- named profiles --------------------------------------------------
    def profiles(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._data.get("profiles", {}).get(kind, {}))

    def profile(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.profiles(kind).get(name)

    def save_profile(self, kind: str, name: str, data: dict[str, Any]) -> None:
        for key in data:
            self._refuse_secret(key)
        with self._lock:
            self._data.setdefault("profiles", {}).setdefault(kind, {})[name] = copy.deepcopy(data)
        self.save()

    def delete_profile(self, kind: str, name: str) -> None:
        with self._lock:
            self._data.get("profiles", {}).get(kind, {}).pop(name, None)
        self.save()

    @staticmethod
    def _refuse_secret(key: str) -> None:
        if looks_secret(key):
            raise ValueError(f"{key!r} looks like a secret; store it with Secrets, not Settings")


class Secrets:
    """Passwords in the OS keyring, or in memory for the session where none is usable.

    Accounts are free-form strings; by convention ``"<kind>/<profile>/<field>"``.
    """

    SERVICE = APP_NAME

    def __init__(self, backend=None):
        self._backend = backend
        self._probed = backend is not None
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        self.problem: str | None = None

    def _keyring(self):
        """The usable keyring backend, or None (probed once, lazily: importing keyring is slow)."""
        with self._lock:
            if not self._probed:
                self._probed = True
                self._backend = self._probe()
            return self._backend

    def _probe(self):
        try:
            import keyring
            from keyring.backends import fail
            backend = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
                self.problem = "no keyring service is available"
                return None
            backend.get_password(self.SERVICE, "__probe__")
            return backend
        except Exception as exc:
            self.problem = f"the keyring cannot be used ({type(exc).__name__})"
            return None

    @property
    def persistent(self) -> bool:
        """True when secrets survive a restart (a keyring is in use)."""
        return self._keyring() is not None

    def describe(self) -> str:
        if self.persistent:
            return "Passwords are kept in the system keyring."
        return f"Passwords are kept in memory for this session only: {self.problem}."

    def get(self, account: str) -> str | None:
        backend = self._keyring()
        if backend is not None:
            try:
                value = backend.get_password(self.SERVICE, account)
                if value is not None:
                    return value
            except Exception as exc:
                self.problem = f"the keyring failed ({type(exc).__name__})"
        return self._memory.get(account)

    def set(self, account: str, value: str) -> None:
        if not value:
            self.delete(account)
            return
        backend = self._keyring()
        if backend is not None:
            try:
                backend.set_password(self.SERVICE, account, value)
                self._memory.pop(account, None)
                return
            except Exception as exc:
                self.problem = f"the keyring refused to store it ({type(exc).__name__})"
        self._memory[account] = value

    def delete(self, account: str) -> None:
        self._memory.pop(account, None)
        backend = self._keyring()
        if backend is not None:
            try:
                backend.delete_password(self.SERVICE, account)
            except Exception:
                pass
