"""Production tokens: RS256 verified against a JWKS URL (served here on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.auth.tokens import TokenSettings, TokenVerifier
from domains.kernel.errors import Unauthenticated
from domains.kernel.principal import Role

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": str(uuid.uuid4()),
        "company_id": str(uuid.uuid4()),
        "roles": ["HR"],
        "iss": "https://issuer.example",
        "aud": "hr-graph",
        "iat": dt.datetime.now(dt.UTC),
        "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


def _verifier(url: str) -> TokenVerifier:
    return TokenVerifier(TokenSettings(jwks_url=url, issuer="https://issuer.example", audience="hr-graph"))


def test_rs256_token_from_the_jwks(jwks_url: str) -> None:
    claims = _claims()
    token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "key-1"})
    principal = _verifier(jwks_url).verify(token)
    assert str(principal.user_id) == claims["sub"]
    assert principal.roles == frozenset({Role.HR})


@pytest.mark.parametrize(
    "claims, key, kid, reason",
    [
        (lambda: _claims(aud="someone-else"), KEY, "key-1", "not valid"),
        (lambda: _claims(iss="https://evil.example"), KEY, "key-1", "not valid"),
        (lambda: _claims(exp=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)), KEY, "key-1", "expired"),
        (lambda: _claims(), OTHER_KEY, "key-1", "not valid"),
        (lambda: _claims(), KEY, "unknown-kid", "signing key"),
        (lambda: _claims(company_id="not-a-uuid"), KEY, "key-1", "lacks"),
    ],
    ids=["audience", "issuer", "expired", "forged", "unknown-key", "bad-claims"],
)
def test_rs256_rejections(jwks_url: str, claims: Callable[[], dict[str, Any]], key: Any, kid: str, reason: str) -> None:
    # claims made when the test runs: made at collection, they expired in a suite longer than 5 min
    token = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": kid})
    with pytest.raises(Unauthenticated) as error:
        _verifier(jwks_url).verify(token)
    assert reason in error.value.message


def test_an_hs256_token_is_refused_when_a_jwks_is_configured(jwks_url: str) -> None:
    token = jwt.encode(_claims(), "a-shared-secret-that-is-long-enough-000", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        _verifier(jwks_url).verify(token)


def test_development_tokens_only_with_a_secret(jwks_url: str) -> None:
    with pytest.raises(RuntimeError):
        _verifier(jwks_url).issue(_verifier_principal())


def _verifier_principal() -> Any:
    from domains.kernel.principal import Principal

    return Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR}))


def _aged(url: str, max_age: dt.timedelta) -> TokenVerifier:
    settings = TokenSettings(jwks_url=url, issuer="https://issuer.example", audience="hr-graph", max_age=max_age)
    return TokenVerifier(settings)


def test_a_token_older_than_the_maximum_age_is_refused_whatever_its_exp(jwks_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    day_long = _claims(iat=now - dt.timedelta(hours=13), exp=now + dt.timedelta(hours=11))
    token = jwt.encode(day_long, KEY, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(Unauthenticated) as refused:
        _verifier(jwks_url).verify(token)  # the default: 12 h
    assert "maximum age" in refused.value.message and "TOKEN_MAX_AGE_SECONDS=43200" in refused.value.message
    assert _aged(jwks_url, dt.timedelta(hours=14)).verify(token).user_id == uuid.UUID(day_long["sub"])

    fresh = jwt.encode(_claims(iat=now - dt.timedelta(minutes=50)), KEY, algorithm="RS256", headers={"kid": "key-1"})
    assert _aged(jwks_url, dt.timedelta(hours=1)).verify(fresh)
    with pytest.raises(Unauthenticated, match="maximum age"):
        _aged(jwks_url, dt.timedelta(minutes=30)).verify(fresh)


@pytest.mark.parametrize(
    "iat, reason",
    [(None, "no iat"), (-(10**400), "maximum age"), ("yesterday", "not valid"), (2**62, "not valid")],
    ids=["missing", "far-past", "not-a-number", "future"],
)
def test_a_token_without_a_usable_iat_is_refused(jwks_url: str, iat: Any, reason: str) -> None:
    claims = _claims()
    if iat is None:
        del claims["iat"]
    else:
        claims["iat"] = iat
    token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(Unauthenticated) as refused:
        _verifier(jwks_url).verify(token)
    assert reason in refused.value.message


def test_development_tokens_carry_iat_and_live_no_longer_than_the_maximum_age() -> None:
    from domains.kernel.principal import Principal

    secret = "a-development-secret-that-is-long-enough-0"
    verifier = TokenVerifier(TokenSettings(secret=secret, max_age=dt.timedelta(hours=1)))
    token = verifier.issue(Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR})))
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="hr-graph")
    assert claims["exp"] - claims["iat"] == 3600
    assert verifier.verify(token).roles == frozenset({Role.HR})
