"""``{{name}}`` variables in requests: environments, collection variables, the process environment.

A template is text with ``{{name}}`` references. Names are looked up, highest first, in
the caller's overrides (``--var`` on the command line), the selected environment, the
``$shared`` environment, and the variables of the ``.http`` file (``@name = value``).
``{{$env.NAME}}`` (or REST Client's ``{{$processEnv NAME}}``) reads the process
environment; ``{{$guid}}``, ``{{$timestamp}}`` and ``{{$randomInt MIN MAX}}`` make values.
Values may refer to other variables.

Environments live in the collection folder as ``http-client.env.json`` (the name other
editors' HTTP clients use)::

    {"$shared": {"api": "/v1"},
     "Dev": {"host": "http://localhost:8080", "token": {"secret": true}},
     "Prod": {"host": "https://api.example.com", "token": {"secret": true}}}

A secret variable's value is never in that file: it lives in the keyring, and whoever
resolves a request passes it in. The values of secrets that went into a request are
reported, so transcripts and *Copy as curl* can mask them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .request import MASK, BadRequest, Request

ENV_FILE = "http-client.env.json"
SHARED = "$shared"
MAX_DEPTH = 10

_REFERENCE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


# -- environments -----------------------------------------------------------------------------

@dataclass
class Variable:
    name: str
    value: str = ""
    secret: bool = False
    """The value lives in the keyring; ``value`` is empty in memory until it is loaded."""


@dataclass
class Environment:
    name: str
    variables: list[Variable] = field(default_factory=list)

    def get(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)

    @property
    def secret_names(self) -> list[str]:
        return [v.name for v in self.variables if v.secret]


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name or ""))


def parse_environments(text: str) -> dict[str, Environment]:
    """The environments of an ``http-client.env.json`` text (raises ValueError if malformed)."""
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the file must hold a JSON object of environments")
    environments = {}
    for env_name, values in data.items():
        if not isinstance(values, dict):
            raise ValueError(f"environment {env_name!r} must be an object of variables")
        env = Environment(str(env_name))
        for name, value in values.items():
            if isinstance(value, dict) and value.get("secret"):
                env.variables.append(Variable(str(name), "", True))
            elif isinstance(value, str):
                env.variables.append(Variable(str(name), value))
            elif isinstance(value, (int, float, bool)) or value is None:
                env.variables.append(Variable(str(name), json.dumps(value)))
            else:
                raise ValueError(f"variable {name!r} of {env_name!r} must be a string")
        environments[env.name] = env
    return environments


def format_environments(environments: Iterable[Environment]) -> str:
    """The ``http-client.env.json`` text: secrets appear as ``{"secret": true}``, never a value."""
    data = {env.name: {v.name: ({"secret": True} if v.secret else v.value) for v in env.variables}
            for env in environments}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_environments(folder: str | os.PathLike) -> dict[str, Environment]:
    """The environments of a collection folder ({} if it has none). Raises ValueError."""
    try:
        text = (Path(folder) / ENV_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {ENV_FILE}: {exc}") from exc
    try:
        return parse_environments(text)
    except ValueError as exc:
        raise ValueError(f"{ENV_FILE} is not valid: {exc}") from exc


def save_environments(folder: str | os.PathLike, environments: Iterable[Environment]) -> None:
    """Write ``http-client.env.json`` (atomically; secret values are never written)."""
    from netgui.config import atomic_write_text
    atomic_write_text(Path(folder) / ENV_FILE, format_environments(environments))


def declare_variables(folder: str | os.PathLike, env_name: str, secret_names: Iterable[str] = (),
                      shared: Iterable[tuple[str, str]] = ()) -> None:
    """Add secret variables to an environment and plain ones to ``$shared`` (existing
    names are left as they are) and write the file if anything was added."""
    environments = load_environments(folder)
    changed = False
    env = environments.setdefault(env_name, Environment(env_name))
    for name in secret_names:
        if env.get(name) is None:
            env.variables.append(Variable(name, "", True))
            changed = True
    shared = list(shared)
    if shared:
        common = environments.setdefault(SHARED, Environment(SHARED))
        for name, value in shared:
            if common.get(name) is None:
                common.variables.append(Variable(name, value))
                changed = True
    if changed:
        save_environments(folder, environments.values())


def secret_account(folder: str | os.PathLike, env: str, name: str) -> str:
    """The keyring account of a secret variable: per collection folder, environment and name."""
    return f"web-env/{Path(folder).resolve()}/{env}/{name}"


def environment_names(environments: Mapping[str, Environment]) -> list[str]:
    """The selectable environments (``$shared`` is part of every one, not one itself)."""
    return [name for name in environments if name != SHARED]


# -- resolving ----------------------------------------------------------------------------------

def _dynamic(expression: str, environ: Mapping[str, str]) -> str:
    """``$env.NAME``, ``$processEnv NAME``, ``$guid``, ``$timestamp``, ``$randomInt A B``."""
    head, _, rest = expression.partition(" ")
    args = rest.split()
    if head.startswith("$env."):
        name = head[5:]
        if name in environ:
            return environ[name]
        raise BadRequest(f"{{{{{expression}}}}}: the environment variable {name} is not set")
    if head == "$processEnv" and len(args) == 1:
        if args[0] in environ:
            return environ[args[0]]
        raise BadRequest(f"{{{{{expression}}}}}: the environment variable {args[0]} is not set")
    if head in ("$guid", "$uuid") and not args:
        return str(uuid.uuid4())
    if head == "$timestamp" and not args:
        return str(int(time.time()))
    if head == "$randomInt" and len(args) == 2:
        try:
            low, high = int(args[0]), int(args[1])
        except ValueError:
            pass
        else:
            if low < high:
                return str(random.randrange(low, high))
    raise BadRequest(f"Unknown dynamic variable {{{{{expression}}}}} (netgui knows $env.NAME, "
                     "$processEnv NAME, $guid, $timestamp and $randomInt MIN MAX)")


class Resolver:
    """Resolves ``{{…}}`` references against layered variables.

    ``layers`` are (label, {name: value}) pairs, highest precedence first. ``secrets`` are
    the names whose values must be masked. ``used_secrets`` collects the secret values
    that went into resolved text (for masking); with ``masked=True`` those values come
    out as ``****`` instead.
    """

    def __init__(self, layers: list[tuple[str, Mapping[str, str]]] = (), secrets: Iterable[str] = (),
                 environ: Mapping[str, str] | None = None, masked: bool = False,
                 missing: Mapping[str, str] | None = None):
        self.layers = [(label, dict(values)) for label, values in layers]
        self.secrets = set(secrets)
        self.environ = os.environ if environ is None else environ
        self.masked = masked
        self.missing = dict(missing or {})
        """Names known but without a value (a secret not in the keyring): name -> why."""
        self.used_secrets: list[str] = []

    def lookup(self, name: str) -> str | None:
        for _, values in self.layers:
            if name in values:
                return values[name]
        return None

    def names(self) -> set[str]:
        return {name for _, values in self.layers for name in values}

    def resolve(self, text: str) -> str:
        """``text`` with every reference replaced; raises BadRequest for an unknown one."""
        if "{{" not in text:
            return text
        return self._resolve(text, ())

    def _resolve(self, text: str, chain: tuple[str, ...]) -> str:
        def substitute(match: re.Match) -> str:
            expression = match.group(1)
            if expression.startswith("$"):
                return _dynamic(expression, self.environ)
            name = expression
            if name in chain:
                loop = " → ".join(chain[chain.index(name):] + (name,))
                raise BadRequest(f"The variable {{{{{name}}}}} refers to itself ({loop})")
            if len(chain) >= MAX_DEPTH:
                raise BadRequest(f"Variables nest more than {MAX_DEPTH} deep at {{{{{name}}}}}")
            value = self.lookup(name)
            if value is None:
                if name in self.missing:
                    raise BadRequest(f"The variable {{{{{name}}}}} has no value: {self.missing[name]}")
                raise BadRequest(f"Undefined variable {{{{{name}}}}}" + self._where())
            if name in self.secrets:
                if self.masked:
                    return MASK
                resolved = self._resolve(value, chain + (name,))
                if resolved and resolved not in self.used_secrets:
                    self.used_secrets.append(resolved)
                return resolved
            return self._resolve(value, chain + (name,))

        return _REFERENCE.sub(substitute, text)

    def _where(self) -> str:
        labels = [label for label, _ in self.layers if label]
        return f" (not in {', '.join(labels)})" if labels else ""

    def mask(self, text: str) -> str:
        """``text`` with every secret value used so far replaced by ``****``."""
        for secret in self.used_secrets:
            if len(secret) >= 3:
                text = text.replace(secret, MASK)
        return text


def make_resolver(environments: Mapping[str, Environment], env_name: str | None,
                  file_variables: Iterable[tuple[str, str]] = (), secret_values: Mapping[str, str] = (),
                  overrides: Mapping[str, str] = (), environ: Mapping[str, str] | None = None,
                  masked: bool = False) -> Resolver:
    """A Resolver for one request: overrides > environment > ``$shared`` > file variables.

    ``secret_values`` are the secret variables' values loaded from the keyring (by name);
    a secret without one is reported as missing when a request uses it.
    """
    secret_values = dict(secret_values or {})
    layers: list[tuple[str, Mapping[str, str]]] = []
    secrets: set[str] = set()
    missing: dict[str, str] = {}
    if overrides:
        layers.append(("the command line", dict(overrides)))
    for name, label in ((env_name, f"environment {env_name}"), (SHARED, "the shared variables")):
        env = environments.get(name) if name else None
        if env is None:
            continue
        values = {}
        for var in env.variables:
            if var.secret:
                secrets.add(var.name)
                if var.name in secret_values:
                    values[var.name] = secret_values[var.name]
                elif var.name not in (overrides or {}):
                    missing.setdefault(var.name, f"the secret of {label} is not in the keyring")
            else:
                values[var.name] = var.value
        layers.append((label, values))
    layers.append(("the file's @variables", dict(file_variables)))
    return Resolver(layers, secrets, environ=environ, masked=masked, missing=missing)


# -- requests ----------------------------------------------------------------------------------

def _basic_pair(value: str) -> tuple[str, str] | None:
    """``Basic user:password`` or ``Basic user password`` (REST Client's shorthands), not base64."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "basic" or not rest.strip():
        return None
    rest = rest.strip()
    if ":" in rest:
        user, _, password = rest.partition(":")
        return user, password
    if " " in rest:
        user, _, password = rest.partition(" ")
        return user, password.strip()
    return None


def resolve_request(request: Request, resolver: Resolver) -> Request:
    """A copy of ``request`` with every template field resolved.

    ``Authorization: Basic user:password`` written in plain text becomes the request's
    basic-auth user and password (so the session encodes it and transcripts mask it).
    """
    r = resolver.resolve
    headers = []
    username, password = r(request.username), r(request.password)
    for name, value in request.headers:
        value = r(value)
        pair = _basic_pair(value) if name.lower() == "authorization" else None
        if pair is not None and not username:
            username, password = pair
            continue
        headers.append((r(name), value))
    return dataclasses.replace(
        request, url=r(request.url), method=r(request.method).upper(), headers=headers,
        params=[(r(n), r(v)) for n, v in request.params],
        form=[(r(n), r(v)) for n, v in request.form],
        files=[(r(n), r(p)) for n, p in request.files],
        raw=r(request.raw), content_type=r(request.content_type),
        username=username, password=password,
        proxy=r(request.proxy) if request.proxy else request.proxy)


@dataclass
class Resolved:
    """A request ready to send, the same with its secrets as ``****``, and those secrets."""

    wire: Request
    shown: Request
    secrets: list[str]


def resolve_for_sending(request: Request, make: Callable[[bool], Resolver]) -> Resolved:
    """Resolve ``request`` twice: for the wire and for showing (``make(masked)`` builds the
    Resolver). Raises BadRequest for undefined variables."""
    resolver = make(False)
    wire = resolve_request(request, resolver)
    shown = resolve_request(request, make(True))
    secrets = list(resolver.used_secrets)
    if wire.password:
        secrets.append(wire.password)
        shown = dataclasses.replace(shown, password=MASK)
    return Resolved(wire, shown, secrets)
