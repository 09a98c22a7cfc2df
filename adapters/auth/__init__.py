"""Bearer token verification: HS256 with a shared secret in development, RS256 against a
JWKS URL (an OIDC provider, Cognito) in production."""
