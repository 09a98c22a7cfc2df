"""Turns a bearer JWT into a ``Principal``, or says clearly why it cannot."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from domains.kernel.errors import Unauthenticated
from domains.kernel.principal import Principal, Role


@dataclass(frozen=True)
class TokenSettings:
    secret: str | None = None
    jwks_url: str | None = None
    issuer: str = "hr-graph"
    audience: str = "hr-graph"
    lifetime: dt.timedelta = dt.timedelta(hours=12)
    # Refused once this old, whatever its ``exp``: a provider's long-lived (or leaked) token
    # ends here. Counted from ``iat``, which every token must carry.
    max_age: dt.timedelta = dt.timedelta(hours=12)


class TokenVerifier:
    def __init__(self, settings: TokenSettings) -> None:
        if not settings.secret and not settings.jwks_url:
            raise ValueError("either a JWT secret or a JWKS URL is needed")
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key, algorithms = self.settings.secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.MissingRequiredClaimError as error:
            if error.claim == "iat":
                raise Unauthenticated("the token has no iat (issued at): its age cannot be checked") from None
            raise Unauthenticated(f"the token is not valid: {error}") from None
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.PyJWKClientError as error:
            raise Unauthenticated(f"the token's signing key is unknown: {error}") from None
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is not valid: {error}") from None
        self._check_age(claims["iat"])
        try:
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                company_id=uuid.UUID(claims["company_id"]),
                roles=frozenset(Role(r) for r in claims.get("roles", ())),
                email=str(claims.get("email", "")),
            )
        except (KeyError, ValueError):
            raise Unauthenticated("the token lacks a valid subject, company or roles") from None

    def valid_until(self, token: str) -> dt.datetime | None:
        """When a token that ``verify`` accepted stops being valid, by its expiry or its
        maximum age, whichever comes first (a socket closes then)."""
        claims = jwt.decode(token, options={"verify_signature": False})
        ends = [
            dt.datetime.fromtimestamp(claims[name], dt.UTC) + extra
            for name, extra in (("exp", dt.timedelta(0)), ("iat", self.settings.max_age))
            if isinstance(claims.get(name), int | float)
        ]
        return min(ends, default=None)

    def _check_age(self, issued_at: Any) -> None:
        """PyJWT has checked that ``iat`` reads as an integer and is not in the future. Integer
        arithmetic: a forged ``iat`` of -10**400 must not overflow a float or a datetime."""
        limit = int(self.settings.max_age.total_seconds())
        if int(time.time()) - int(issued_at) > limit:
            raise Unauthenticated(
                f"the token was issued more than {limit / 3600:g} h ago, its maximum age"
                f" (TOKEN_MAX_AGE_SECONDS={limit}): get a new one"
            )

    def issue(self, principal: Principal) -> str:
        """Development tokens only: production tokens come from the identity provider."""
        if not self.settings.secret:
            raise RuntimeError("tokens are issued only with a development secret")
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": str(principal.user_id),
            "company_id": str(principal.company_id),
            "roles": sorted(r.value for r in principal.roles),
            "email": principal.email,
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "iat": now,
            "exp": now + min(self.settings.lifetime, self.settings.max_age),
        }
        return jwt.encode(claims, self.settings.secret, algorithm="HS256")
