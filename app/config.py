"""Settings: the one place that reads the environment.

`load_settings` turns the environment (plus optional overrides, as tests pass them) into a frozen
`Settings`. A malformed value raises `ConfigError` naming the variable, so startup fails clearly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.services.texts import DEFAULTS as REPLY_DEFAULTS

PROVIDERS = ("cloud_api", "twilio", "generic", "vonage")
SIGNATURE_MODES = ("enforce", "report", "off")
LLM_PROVIDERS = ("offline", "openai")
EMBEDDINGS_PROVIDERS = ("offline", "openai")
LANGUAGES = ("es", "en")
LOG_FORMATS = ("text", "json")
MIN_JWT_SECRET_BYTES = 32
DEFAULT_KNOWLEDGE_DIR = os.path.join(os.path.dirname(__file__), "knowledge")
# Threads of each offline e5 encoding. One: gunicorn's workers already share the cores, and a
# second thread, woken for every question, made answers slower end to end (README).
E5_THREADS = 1


@dataclass(frozen=True)
class Settings:
    """Every setting the gateway reads, parsed and checked."""

    mongodb_uri: str | None = None
    mongodb_db: str = "whatsapp_gateway"
    gateway_db_path: str = "var/gateway.sqlite3"
    whatsapp_provider: str | None = None
    whatsapp_api_base_url: str | None = None
    whatsapp_token: str | None = field(default=None, repr=False)
    whatsapp_phone_number_id: str | None = None
    whatsapp_account_id: str | None = None
    whatsapp_private_key: str | None = field(default=None, repr=False)
    whatsapp_verify_token: str | None = field(default=None, repr=False)
    whatsapp_app_secrets: tuple[str, ...] = field(default=(), repr=False)
    whatsapp_signature_mode: str = "off"
    whatsapp_public_url: str | None = None
    trusted_proxy_hops: int = 0
    replies: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default_language: str = "es"
    whatsapp_http_timeout: tuple[float, float] = (3.05, 10.0)
    jwt_secret: str | None = field(default=None, repr=False)
    llm_provider: str = "offline"
    llm_model: str = "gpt-4o-mini"
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_max_tokens: int = 400
    embeddings_provider: str = "offline"
    embeddings_model: str = "text-embedding-3-small"
    embeddings_base_url: str | None = None
    e5_threads: int = E5_THREADS
    knowledge_dir: str = DEFAULT_KNOWLEDGE_DIR
    index_cache_dir: str = "var/index"
    min_relevance: float | None = None
    history_limit: int = 10
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_token: str | None = field(default=None, repr=False)
    handoff_idle_minutes: float = 60.0
    health_check_seconds: float = 60.0
    gateway_db_timeout: float = 5.0
    lease_seconds: float = 120.0
    sweep_seconds: float = 10.0
    background_threads: int = 8
    background_backlog: int = 64
    send_attempts: int = 4
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 30.0
    read_receipts: bool = True
    typing_indicator: bool = True
    typing_refresh_seconds: float = 20.0
    body_seconds: float = 10.0
    body_readers: int = 3


@dataclass(frozen=True)
class ServerSettings:
    """What gunicorn needs: where to listen and how many workers."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 4
    timeout: int = 60
    graceful_timeout: int = 30


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read the environment, apply `overrides` (same names as the env vars), and check it all.

    Every invalid setting is reported at once, in one `ConfigError`, a line each."""
    raw: dict[str, Any] = {**os.environ, **(overrides or {})}
    check = _Problems()
    secrets = check(_secrets, raw, fallback=())
    provider = check(_choice, raw, "WHATSAPP_PROVIDER", PROVIDERS, None)
    token = _text(raw, "WHATSAPP_TOKEN")
    mode = check(_signature_mode, raw, provider, secrets, token, fallback="enforce")
    settings = Settings(
        mongodb_uri=_text(raw, "MONGODB_URI"),
        mongodb_db=_text(raw, "MONGODB_DB") or Settings.mongodb_db,
        gateway_db_path=_text(raw, "GATEWAY_DB_PATH") or Settings.gateway_db_path,
        whatsapp_provider=provider,
        whatsapp_api_base_url=check(_url, raw, "WHATSAPP_API_BASE_URL"),
        whatsapp_token=token,
        whatsapp_phone_number_id=_phone(raw, "WHATSAPP_PHONE_NUMBER_ID"),
        whatsapp_account_id=_text(raw, "WHATSAPP_ACCOUNT_ID"),
        whatsapp_private_key=check(_file, raw, "WHATSAPP_PRIVATE_KEY_PATH"),
        whatsapp_verify_token=_text(raw, "WHATSAPP_VERIFY_TOKEN"),
        whatsapp_app_secrets=secrets,
        whatsapp_signature_mode=mode,
        whatsapp_public_url=check(_url, raw, "WHATSAPP_PUBLIC_URL"),
        trusted_proxy_hops=check(_int, raw, "TRUSTED_PROXY_HOPS", 0, 0, fallback=0),
        replies=check(_replies, raw, fallback={}),
        default_language=check(_choice, raw, "DEFAULT_LANGUAGE", LANGUAGES, "es", fallback="es"),
        whatsapp_http_timeout=(
            check(_float, raw, "WHATSAPP_CONNECT_TIMEOUT", 3.05, fallback=3.05),
            check(_float, raw, "WHATSAPP_READ_TIMEOUT", 10.0, fallback=10.0),
        ),
        jwt_secret=_text(raw, "JWT_SECRET"),
        llm_provider=check(_choice, raw, "LLM_PROVIDER", LLM_PROVIDERS, "offline",
                           fallback="offline"),
        llm_model=_text(raw, "LLM_MODEL") or Settings.llm_model,
        openai_api_key=_text(raw, "OPENAI_API_KEY"),
        openai_base_url=check(_url, raw, "OPENAI_BASE_URL"),
        llm_max_tokens=check(_int, raw, "LLM_MAX_TOKENS", 400, 1, fallback=400),
        embeddings_provider=check(_choice, raw, "EMBEDDINGS_PROVIDER", EMBEDDINGS_PROVIDERS,
                                  "offline", fallback="offline"),
        embeddings_model=_text(raw, "EMBEDDINGS_MODEL") or Settings.embeddings_model,
        embeddings_base_url=check(_url, raw, "EMBEDDINGS_BASE_URL"),
        e5_threads=check(_int, raw, "E5_THREADS", E5_THREADS, 1, fallback=E5_THREADS),
        knowledge_dir=_text(raw, "KNOWLEDGE_DIR") or DEFAULT_KNOWLEDGE_DIR,
        index_cache_dir=_text(raw, "INDEX_CACHE_DIR") or Settings.index_cache_dir,
        min_relevance=check(_fraction, raw, "MIN_RELEVANCE"),
        history_limit=check(_int, raw, "HISTORY_LIMIT", 10, 0, fallback=10),
        log_level=check(_choice, raw, "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"),
                        "INFO", fallback="INFO"),
        log_format=check(_choice, raw, "LOG_FORMAT", LOG_FORMATS, "text", fallback="text"),
        metrics_token=_text(raw, "METRICS_TOKEN"),
        handoff_idle_minutes=check(_float, raw, "HANDOFF_IDLE_MINUTES", 60.0, fallback=60.0),
        health_check_seconds=check(_float, raw, "PROVIDER_CHECK_SECONDS", 60.0, True,
                                   fallback=60.0),
        gateway_db_timeout=check(_float, raw, "GATEWAY_DB_TIMEOUT", 5.0, fallback=5.0),
        lease_seconds=check(_float, raw, "WHATSAPP_LEASE_SECONDS", 120.0, fallback=120.0),
        sweep_seconds=check(_float, raw, "WHATSAPP_SWEEP_SECONDS", 10.0, True, fallback=10.0),
        background_threads=check(_int, raw, "BACKGROUND_THREADS", 8, 1, fallback=8),
        background_backlog=check(_int, raw, "BACKGROUND_BACKLOG", 64, 0, fallback=64),
        send_attempts=check(_int, raw, "WHATSAPP_SEND_ATTEMPTS", 4, 1, fallback=4),
        retry_base_seconds=check(_float, raw, "WHATSAPP_RETRY_BASE_SECONDS", 1.0, True,
                                 fallback=1.0),
        retry_max_seconds=check(_float, raw, "WHATSAPP_RETRY_MAX_SECONDS", 30.0, True,
                                fallback=30.0),
        read_receipts=check(_bool, raw, "WHATSAPP_READ_RECEIPTS", True, fallback=True),
        typing_indicator=check(_bool, raw, "WHATSAPP_TYPING_INDICATOR", True, fallback=True),
        typing_refresh_seconds=check(_float, raw, "WHATSAPP_TYPING_REFRESH_SECONDS", 20.0,
                                     fallback=20.0),
        body_seconds=check(_float, raw, "WEBHOOK_BODY_SECONDS", 10.0, fallback=10.0),
        # One thread fewer than gunicorn gives a worker: one is always free for the rest.
        body_readers=max(1, check(_int, raw, "GUNICORN_THREADS", 4, 1, fallback=4) - 1),
    )
    if settings.jwt_secret and len(settings.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
        check.problems.append(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes long "
                              "(HS256 keys shorter than the hash are guessable)")
    if "openai" in (settings.llm_provider, settings.embeddings_provider) and not (
            settings.openai_api_key):
        check.problems.append("LLM_PROVIDER=openai and EMBEDDINGS_PROVIDER=openai need "
                              "OPENAI_API_KEY")
    check.raise_any()
    return settings


class _Problems:
    """Runs each setting's parser, keeping its `ConfigError` instead of stopping at it."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, parse, *args: Any, fallback: Any = None) -> Any:
        try:
            return parse(*args)
        except ConfigError as err:
            self.problems.append(err.message)
            return fallback

    def raise_any(self) -> None:
        """One `ConfigError` listing every problem, a line each."""
        if len(self.problems) == 1:
            raise ConfigError(self.problems[0])
        if self.problems:
            raise ConfigError(f"{len(self.problems)} settings are invalid:\n" + "\n".join(
                f"- {problem}" for problem in self.problems))


def _secrets(raw: Mapping[str, Any]) -> tuple[str, ...]:
    secrets = _list(raw, "WHATSAPP_APP_SECRET")
    if str(raw.get("WHATSAPP_APP_SECRET") or "").strip() and not secrets:
        raise ConfigError("WHATSAPP_APP_SECRET is set but holds no secret (only commas and "
                          "spaces)")
    return secrets


def load_server_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    """Read gunicorn's settings (HOST, PORT, WEB_CONCURRENCY, ...) from the environment."""
    raw = dict(os.environ if environ is None else environ)
    check, base = _Problems(), ServerSettings
    settings = ServerSettings(
        host=_text(raw, "HOST") or base.host,
        port=check(_int, raw, "PORT", base.port, 1, fallback=base.port),
        workers=check(_int, raw, "WEB_CONCURRENCY", base.workers, 1, fallback=base.workers),
        threads=check(_int, raw, "GUNICORN_THREADS", base.threads, 1, fallback=base.threads),
        timeout=check(_int, raw, "GUNICORN_TIMEOUT", base.timeout, 1, fallback=base.timeout),
        graceful_timeout=check(_int, raw, "GUNICORN_GRACEFUL_TIMEOUT", base.graceful_timeout, 1,
                               fallback=base.graceful_timeout),
    )
    check.raise_any()
    return settings


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _list(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name) or ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item.strip())


def _choice(raw: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str | None):
    value = _text(raw, name)
    if value is None:
        return default
    match = next((choice for choice in allowed if choice.lower() == value.lower()), None)
    if match is None:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
    return match


def _signature_mode(raw: Mapping[str, Any], provider: str | None, secrets: tuple[str, ...],
                    token: str | None) -> str:
    """`enforce` as soon as anything is configured: signatures fail closed. A request whose
    provider has no secret here is refused; a gateway that could verify none of the providers
    it accepts refuses to start, unless `WHATSAPP_SIGNATURE_MODE=off` says unsigned webhooks
    are wanted. Only a gateway with no provider settings at all (a first `make run`) is off by
    default."""
    mode = _choice(raw, "WHATSAPP_SIGNATURE_MODE", SIGNATURE_MODES, None)
    if mode == "off":
        return mode
    if mode is None and not (secrets or token or provider):
        return "off"
    # What each provider signs with: Twilio its auth token, the others the app secret.
    accepted = [provider] if provider else list(PROVIDERS)
    if not any(token if name == "twilio" else secrets for name in accepted):
        raise ConfigError(
            f"webhooks from {provider or 'any provider'} cannot be verified: set "
            + ("WHATSAPP_TOKEN (Twilio's auth token)" if provider == "twilio" else
               "WHATSAPP_APP_SECRET") + ", or WHATSAPP_SIGNATURE_MODE=off to accept "
            "unsigned webhooks")
    return mode or "enforce"


def _replies(raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Per-language overrides of the fixed texts: `REPLY_<KEY>_<LANG>`.

    `WHATSAPP_UNSUPPORTED_REPLY`, when set, is the non-text notice in every language (empty:
    no notice at all); `REPLY_UNSUPPORTED_<LANG>` still wins for its language.
    """
    replies: dict[str, dict[str, str]] = {}
    if "WHATSAPP_UNSUPPORTED_REPLY" in raw:
        text = str(raw["WHATSAPP_UNSUPPORTED_REPLY"]).strip()
        replies["unsupported"] = dict.fromkeys(LANGUAGES, text)
    for key in REPLY_DEFAULTS:
        for language in LANGUAGES:
            name = f"REPLY_{key.upper()}_{language.upper()}"
            if name in raw:
                text = str(raw[name]).strip()
                if not text and key != "unsupported":
                    raise ConfigError(f"{name} is empty; unset it to use the default text")
                replies.setdefault(key, {})[language] = text
    return replies


def _file(raw: Mapping[str, Any], name: str) -> str | None:
    """The text of the file the variable names (a key: its contents are never shown)."""
    path = _text(raw, name)
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{name}={path!r} cannot be read: {type(err).__name__}") from None


def _fraction(raw: Mapping[str, Any], name: str) -> float | None:
    value = _text(raw, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if not -1 <= number <= 2:
        raise ConfigError(f"{name}={number} must be between -1 and 2 (a similarity score)")
    return number


def _int(raw: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    value = _text(raw, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}={number} must be at least {minimum}")
    return number


def _float(raw: Mapping[str, Any], name: str, default: float, allow_zero: bool = False) -> float:
    value = _text(raw, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ConfigError(f"{name}={number} must be {'zero or more' if allow_zero else 'positive'}")
    return number


def _bool(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = _text(raw, name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not one of: true, false")


def _url(raw: Mapping[str, Any], name: str) -> str | None:
    value = _text(raw, name)
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={value!r} must start with http:// or https://")
    return value.rstrip("/") if value else None


def _phone(raw: Mapping[str, Any], name: str) -> str | None:
    """Accept `whatsapp:+34600...`, `+34600...` or `34600...`; keep the digits as a string."""
    value = _text(raw, name)
    if value is None:
        return None
    return value.removeprefix("whatsapp:").lstrip("+")
