"""{{variables}}: layers, the process environment, secrets masked, environment files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netgui.net.http.request import BadRequest, Request, to_curl
from netgui.net.http.variables import (
    Environment,
    Variable,
    format_environments,
    load_environments,
    make_resolver,
    parse_environments,
    resolve_for_sending,
    resolve_request,
)

ENVS = parse_environments("""{
  "$shared": {"api": "/v1", "host": "http://shared.invalid"},
  "Dev": {"host": "http://localhost:8080", "token": {"secret": true}, "auth": "Bearer {{token}}"},
  "Prod": {"host": "https://api.example.com", "token": {"secret": true}, "retries": 3}
}""")


def resolver(env="Dev", file_vars=(), secrets=None, overrides=(), masked=False, environ=None):
    return make_resolver(ENVS, env, file_vars, secrets if secrets is not None else {"token": "s3cr3t-tok"},
                         dict(overrides), environ=environ or {"HOME_DIR": "/home/zoe"}, masked=masked)


def test_layers_in_order_of_precedence():
    r = resolver(file_vars=[("host", "http://file.invalid"), ("page", "2")])
    assert r.resolve("{{host}}{{api}}/users?page={{ page }}") == "http://localhost:8080/v1/users?page=2"
    assert resolver("Prod").resolve("{{host}} {{retries}}") == "https://api.example.com 3"
    assert resolver(None).resolve("{{host}}") == "http://shared.invalid"
    assert resolver(overrides={"host": "http://cli"}).resolve("{{host}}") == "http://cli"


def test_process_environment_and_dynamic_values():
    r = resolver()
    assert r.resolve("{{$env.HOME_DIR}} {{$processEnv HOME_DIR}}") == "/home/zoe /home/zoe"
    assert len(r.resolve("{{$guid}}")) == 36 and r.resolve("{{$timestamp}}").isdigit()
    assert 1 <= int(r.resolve("{{$randomInt 1 3}}")) < 3
    with pytest.raises(BadRequest, match="MISSING is not set"):
        r.resolve("{{$env.MISSING}}")
    with pytest.raises(BadRequest, match="Unknown dynamic variable"):
        r.resolve("{{$nope}}")


def test_undefined_cycles_and_missing_secrets_are_one_line_errors():
    with pytest.raises(BadRequest, match=r"Undefined variable \{\{nope\}\} \(not in environment Dev"):
        resolver().resolve("x{{nope}}")
    r = resolver(file_vars=[("a", "{{b}}"), ("b", "{{a}}")])
    with pytest.raises(BadRequest, match="refers to itself"):
        r.resolve("{{a}}")
    with pytest.raises(BadRequest, match="secret of environment Dev is not in the keyring"):
        resolver(secrets={}).resolve("{{token}}")


def test_secrets_are_reported_and_masked():
    r = resolver()
    assert r.resolve("{{auth}}") == "Bearer s3cr3t-tok"
    assert r.used_secrets == ["s3cr3t-tok"]
    assert r.mask("header: Bearer s3cr3t-tok") == "header: Bearer ****"
    assert resolver(masked=True).resolve("{{auth}}") == "Bearer ****"
    # a secret given on the command line stays a secret
    r = resolver(overrides={"token": "from-cli"}, secrets={})
    assert r.resolve("{{token}}") == "from-cli" and r.used_secrets == ["from-cli"]


def test_a_request_resolved_for_the_wire_and_for_showing():
    request = Request(url="{{host}}{{api}}/items", method="post", headers=[
        ("Authorization", "{{auth}}"), ("X-Trace", "{{$guid}}")],
        body_kind="raw", raw='{"token": "{{token}}"}')
    resolved = resolve_for_sending(request, lambda masked: resolver(masked=masked))
    assert resolved.wire.url == "http://localhost:8080/v1/items" and resolved.wire.method == "POST"
    assert resolved.wire.headers[0] == ("Authorization", "Bearer s3cr3t-tok")
    assert resolved.wire.raw == '{"token": "s3cr3t-tok"}'
    assert resolved.shown.headers[0] == ("Authorization", "Bearer ****")
    assert resolved.secrets == ["s3cr3t-tok"]
    curl = to_curl(resolved.shown)
    assert "s3cr3t-tok" not in curl and "Bearer ****" in curl


def test_basic_shorthand_becomes_user_and_password():
    request = Request(url="http://x/", headers=[("Authorization", "Basic alice:{{token}}")])
    resolved = resolve_for_sending(request, lambda masked: resolver(masked=masked))
    assert (resolved.wire.username, resolved.wire.password) == ("alice", "s3cr3t-tok")
    assert resolved.wire.headers == [] and resolved.shown.password == "****"
    assert "s3cr3t-tok" in resolved.secrets
    already = Request(url="http://x/", headers=[("Authorization", "Basic YWxpY2U6cHc=")])
    assert resolve_request(already, resolver()).headers == already.headers


def test_environment_files_keep_secret_values_out(tmp_path):
    envs = [Environment("Dev", [Variable("host", "http://h"), Variable("token", "leaked?", True)])]
    text = format_environments(envs)
    assert "leaked" not in text and '"token": {\n      "secret": true' in text
    (tmp_path / "http-client.env.json").write_text(text)
    loaded = load_environments(tmp_path)
    assert loaded["Dev"].variables == [Variable("host", "http://h"), Variable("token", "", True)]
    assert load_environments(tmp_path / "missing") == {}
    (tmp_path / "http-client.env.json").write_text("[1]")
    with pytest.raises(ValueError, match="not valid"):
        load_environments(tmp_path)


@given(st.text(max_size=60).filter(lambda t: "{{" not in t))
def test_text_without_references_is_left_alone(text):
    assert resolver().resolve(text) == text


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=30))
def test_a_value_goes_in_exactly(value):
    r = make_resolver({}, None, [("v", value)], environ={})
    assert r.resolve("<{{v}}>") == f"<{value}>"
