"""`create_app`: the composition root. Every object the gateway uses is wired here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app import auth, console, logs, operators, webhook
from app.config import Settings, load_settings
from app.errors import GatewayError, StoreUnavailable
from app.services.bodies import BodyReaders
from app.services.bot import make_bot
from app.services.chat import ChatManager
from app.services.delivery import DeliveryPolicy, Outbox
from app.services.dispatcher import Dispatcher
from app.services.gateway import MessageHandler
from app.services.handoff import Operators
from app.services.inbound import Receiver
from app.services.readiness import ProviderHealth
from app.services.store import SchemaGate, open_store
from app.services.texts import Texts
from dialects.client import ClientSettings
from dialects.registry import BY_NAME, CLIENTS

MAX_BODY_BYTES = 4 * 1024 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides environment variables by name (tests pass a dict);
    its optional `MONGO_CLIENT` is the seam for a mongomock client."""
    config = dict(config or {})
    mongo_client = config.pop("MONGO_CLIENT", None)
    settings = load_settings(config)
    app = Flask(__name__)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    _configure_logging(app, settings)
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)

    store = open_store(settings, mongo_client)
    schema = SchemaGate(store)
    try:
        schema.ensure()
    except StoreUnavailable as err:
        app.logger.error("store unreachable at startup (%s); webhooks answer 503 until it is "
                         "back", err.reason)
    texts = Texts(settings.replies)
    bot = make_bot(settings, texts)
    clients = _clients(settings)
    outbox = Outbox(store, clients,
                    limits={name: dialect.max_text_length for name, dialect in BY_NAME.items()},
                    policy=DeliveryPolicy(
                        max_attempts=settings.send_attempts,
                        retry_base=settings.retry_base_seconds,
                        retry_cap=settings.retry_max_seconds,
                        read_receipts=settings.read_receipts,
                        typing=settings.typing_indicator,
                        typing_refresh=settings.typing_refresh_seconds))
    # The bot's detector knows the names its documents use ("Valencia", "American Express").
    chat = ChatManager(store, bot, settings.history_limit, texts, bot.detector)
    handler = MessageHandler(store, chat, outbox,
                             notices=all(texts.table["unsupported"].values()),
                             handoff_idle=timedelta(minutes=settings.handoff_idle_minutes))
    dispatcher = Dispatcher(
        store, handler, schema, threads=settings.background_threads,
        backlog=settings.background_backlog, lease_seconds=settings.lease_seconds,
        sweep_seconds=settings.sweep_seconds)
    names = [settings.whatsapp_provider] if settings.whatsapp_provider else list(clients)
    app.extensions.update(store=store, schema=schema, clients=clients,
                          operators=Operators(store, outbox),
                          health=ProviderHealth(store, clients, names,
                                                settings.health_check_seconds),
                          receiver=Receiver(settings), handler=handler, dispatcher=dispatcher,
                          body_readers=BodyReaders(settings.body_readers, settings.body_seconds,
                                                   MAX_BODY_BYTES))

    app.register_blueprint(webhook.bp)
    app.register_blueprint(operators.bp)
    console.init_app(app)
    auth.init_app(app)
    _register_error_handlers(app)
    if not logs.announced:  # under gunicorn, the master said it once for every worker
        announce(settings, clients)
    # The dispatcher's sweep answers stored messages: only a serving process may start it
    # (gunicorn's `post_worker_init`), never `flask shell` or `flask issue-token`.
    return app


def _clients(settings: Settings) -> dict:
    client_settings = ClientSettings(
        base_url=settings.whatsapp_api_base_url, token=settings.whatsapp_token,
        phone_number_id=settings.whatsapp_phone_number_id,
        account_id=settings.whatsapp_account_id, timeout=settings.whatsapp_http_timeout,
        private_key=settings.whatsapp_private_key)
    return {name: client_class(client_settings) for name, client_class in CLIENTS.items()}


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(GatewayError)
    def gateway_error(err: GatewayError):
        if isinstance(err, StoreUnavailable):
            pass  # the schema gate logs an outage when it starts and ends, not every 503
        elif err.status >= 500:
            app.logger.error("%s: %s", err.code, err.message)
        else:
            app.logger.warning("refused %s: %s", err.code, err.message)
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        return jsonify(error={"code": code, "message": err.description}), err.code


def _configure_logging(app: Flask, settings: Settings) -> None:
    logs.configure(settings.log_level, settings.log_format)


def announce(settings: Settings, clients: dict | None = None) -> None:
    """The startup summary: what is configured, and every warning about it."""
    log = logging.getLogger(__name__)
    clients = clients or _clients(settings)
    if not settings.jwt_secret:
        log.warning("JWT_SECRET is not set: the operator routes answer 401")
    if settings.whatsapp_signature_mode == "off":
        log.warning("webhooks are NOT authenticated (WHATSAPP_SIGNATURE_MODE=off): "
                    "set WHATSAPP_APP_SECRET (or WHATSAPP_TOKEN for Twilio)")
    names = [settings.whatsapp_provider] if settings.whatsapp_provider else list(clients)
    for name in names:
        if clients[name].missing:
            log.warning("%s sending disabled: %s not set; answers are stored as not_sent",
                               name, ", ".join(clients[name].missing))
    log.info("gateway ready store=%s provider=%s signature_mode=%s llm=%s embeddings=%s "
             "log_format=%s", "mongodb" if settings.mongodb_uri else settings.gateway_db_path,
             settings.whatsapp_provider or "any", settings.whatsapp_signature_mode,
             settings.llm_provider, settings.embeddings_provider, settings.log_format)
