"""Bearer-JWT auth for every route but the exact public paths."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

import click
import jwt
from flask import Flask, current_app, g, request
from flask.cli import with_appcontext

from app.errors import Unauthorized
from app.webhook import WEBHOOK_PATH

PUBLIC_EXACT = frozenset({WEBHOOK_PATH, "/healthz", "/readyz", "/api/v1/openapi.json"})
METRICS_PATH = "/metrics"
ALGORITHM = "HS256"
# No operator token lives longer than this, whatever its `exp` says.
MAX_LIFETIME = timedelta(days=30)


def issue_token(secret: str, subject: str, lifetime: timedelta) -> str:
    """An HS256 token for `subject`, valid for `lifetime`."""
    now = datetime.now(UTC)
    return jwt.encode({"sub": subject, "iat": now, "exp": now + lifetime}, secret, ALGORITHM)


def check_token(secret: str | None, header: str | None) -> dict:
    """The claims of a valid `Bearer` token, else `Unauthorized` saying why."""
    if not secret:
        raise Unauthorized("operator API disabled: JWT_SECRET is not set")
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM],
                            options={"require": ["exp", "iat"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except (jwt.InvalidTokenError, OverflowError, ValueError):
        raise Unauthorized("invalid token") from None
    if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
        raise Unauthorized(f"token lives longer than {MAX_LIFETIME.days} days")
    return claims


def _require_token() -> None:
    # An unknown path is a 404 for everyone: a typo must not read as "missing bearer token".
    if request.path in PUBLIC_EXACT or request.url_rule is None:
        return
    if request.blueprint == "console":
        return  # the page takes the same token from its own cookie (app.console)
    settings, header = current_app.config["SETTINGS"], request.headers.get("Authorization")
    if request.path == METRICS_PATH and settings.metrics_token and _is_bearer(
            header, settings.metrics_token):
        return  # a scraper's long-lived token, good for this one route only
    g.operator = check_token(settings.jwt_secret, header).get("sub") or "operator"


def _is_bearer(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


@click.command("issue-token")
@with_appcontext
@click.option("--subject", default="operator", show_default=True, help="Who the token is for.")
@click.option("--hours", default=12.0, show_default=True, help="How long it is valid.")
def issue_token_command(subject: str, hours: float) -> None:
    """Print a bearer token for the operator routes."""
    secret = current_app.config["SETTINGS"].jwt_secret
    if not secret:
        raise click.ClickException("JWT_SECRET is not set")
    if not 0 < hours <= MAX_LIFETIME.total_seconds() / 3600:
        raise click.ClickException(f"--hours must be more than 0 and at most "
                                   f"{MAX_LIFETIME.total_seconds() / 3600:.0f}")
    click.echo(issue_token(secret, subject, timedelta(hours=hours)))


def init_app(app: Flask) -> None:
    """Guard every request and register the `issue-token` command."""
    app.before_request(_require_token)
    app.cli.add_command(issue_token_command)

