"""The public webhook: Meta's verification handshake and every provider's POSTs."""

from __future__ import annotations

import hmac
import mmap
from dataclasses import replace
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import ClientDisconnected

from app import metrics
from app.api_docs import documented
from app.errors import PayloadTooLarge, RequestTimeout, StoreUnavailable
from app.services.bodies import read_into
from dialects.base import WebhookRequest
from dialects.cloud_api import Envelope
from dialects.generic import Message as GenericMessage
from dialects.twilio import Form

WEBHOOK_PATH = "/api/v1/whatsapp/webhook"
READY_PROBE_SECONDS = 0.9
BODY_STALL_SECONDS = 5

bp = Blueprint("webhook", __name__)


class HandshakeQuery(Schema):
    """Meta's verification request."""

    mode = fields.String(data_key="hub.mode", metadata={"example": "subscribe"})
    verify_token = fields.String(data_key="hub.verify_token")
    challenge = fields.String(data_key="hub.challenge")


class ReadyOut(Schema):
    """Readiness: the store and each provider (ok, not_configured, auth_failed, unreachable,
    rejected)."""

    status = fields.String(metadata={"example": "ready"})
    store = fields.String(metadata={"example": "ok"})
    providers = fields.Dict(keys=fields.String(), values=fields.String())
    errors = fields.Dict()


# The provider payloads the webhook reads, by the names the API description gives them.
SCHEMAS = {"CloudApiEnvelope": Envelope, "GenericMessage": GenericMessage, "TwilioForm": Form}


@bp.get(WEBHOOK_PATH)
@documented("Meta's webhook verification", query=HandshakeQuery, public=True, tag="webhook",
            responses={200: "hub.challenge, as text", 403: "wrong mode or verify token"})
def handshake() -> Response:
    """Echo `hub.challenge` when Meta presents our verify token; 403 otherwise."""
    expected = current_app.config["SETTINGS"].whatsapp_verify_token
    token = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge")
    if (request.args.get("hub.mode") == "subscribe" and expected and challenge is not None
            and hmac.compare_digest(token.encode(), expected.encode())):
        return Response(challenge, 200, mimetype="text/plain")
    current_app.logger.warning("webhook verification refused mode=%s",
                               request.args.get("hub.mode"))
    error = {"code": "verification_failed", "message": "hub.mode or hub.verify_token is wrong"}
    return jsonify(error=error), 403


@bp.get("/healthz")
@documented("Liveness", public=True, tag="meta")
def healthz() -> Response:
    """200 while the process serves."""
    return jsonify(status="ok")


@bp.get("/readyz")
@documented("Readiness", public=True, tag="meta", responses={200: ReadyOut, 503: ReadyOut})
def readyz() -> tuple[Response, int]:
    """The store and each provider we may send through; 503 when the store is down, or a
    provider rejected our credentials or could not be reached (as seen by any worker)."""
    extensions = current_app.extensions
    failures, store = {}, "down"
    try:
        # Within a second: a store that takes longer is as good as down for a provider.
        if extensions["schema"].probe(timeout=READY_PROBE_SECONDS):
            extensions["schema"].ensure()
            failures, store = extensions["store"].providers.auth_failures(), "ok"
    except StoreUnavailable:
        pass
    health = extensions["health"]
    # At most once a minute, in the background: this answer waits for it a second at most.
    health.refresh(wait=READY_PROBE_SECONDS)
    providers = health.states(failures)
    ready = store == "ok" and set(providers.values()) <= {"ok", "not_configured"}
    body = {"status": "ready" if ready else "not_ready", "store": store, "providers": providers}
    if failures:  # the provider's code only: its words are in the log, not on a public route
        body["errors"] = {name: {"code": e.code} for name, e in failures.items()}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
@documented("Prometheus metrics of every worker", tag="meta",
            responses={200: "Prometheus text format"})
def prometheus() -> Response:
    """Needs the operator token, or METRICS_TOKEN when set."""
    extensions = current_app.extensions
    collector = metrics.StoreCollector(
        queued=extensions["store"].messages.count_queued,
        providers=lambda: extensions["health"].states(
            extensions["store"].providers.auth_failures()))
    return Response(metrics.render(collector), 200,
                    mimetype="text/plain; version=0.0.4; charset=utf-8")


@bp.post(WEBHOOK_PATH)
@documented("A provider's webhook: messages and delivery statuses", public=True, tag="webhook",
            body={"application/json": [Envelope, GenericMessage],
                  "application/x-www-form-urlencoded": [Form]},
            responses={200: "acknowledged (Twilio: empty TwiML)", 400: "not a known payload",
                       401: "signature missing", 403: "signature wrong",
                       413: "body over 4 MiB", 503: "store unavailable or busy; retry"})
def receive() -> Response:
    """Store the events of a provider's POST, acknowledge them, and answer in the background.

    Nothing is acknowledged before it is stored: a store outage answers 503 and the provider
    retries; a retried or duplicated message is recognised by its provider id and ignored.
    """
    extensions = current_app.extensions
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    receiver = extensions["receiver"]
    receiver.precheck(request.headers)  # unsigned: refused before it is read
    with extensions["body_readers"].slot(request.environ.get("gunicorn.socket")) as buffer:
        raw = _body(buffer)
        inbound = WebhookRequest(body=raw, content_type=request.mimetype,
                                 headers=request.headers, url=_called_url())
        # Checked in the slot's buffer: only a body that passed is copied out to be parsed.
        signer = receiver.authenticate(inbound)
        inbound = replace(inbound, body=bytes(raw))
        raw.release()
    accepted = receiver.accept(inbound, signer)
    schema = extensions["schema"]
    schema.ensure()
    with schema.watch():
        waiting = [extensions["handler"].record(event) for event in accepted.events]
    for conversation_id in dict.fromkeys(filter(None, waiting)):
        extensions["dispatcher"].submit(conversation_id)
    body, mimetype = accepted.dialect.acknowledgement(len(accepted.events), accepted.rejected)
    return Response(body, 200, mimetype=mimetype)


def _body(buffer: mmap.mmap) -> memoryview:
    """The raw body, read into `buffer`; 413 past MAX_CONTENT_LENGTH, announced or chunked
    alike (a chunked body has no Content-Length for Flask to check up front), and 408 when the
    client stops sending it for BODY_STALL_SECONDS, or has not sent it all when the body
    readers' deadline cuts it off: a slow sender must not hold one of the worker's threads."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    # Werkzeug quietly cuts a chunked body at the limit; the server's own stream does not.
    chunked = request.content_length is None and request.environ.get("wsgi.input_terminated")
    stream = request.environ["wsgi.input"] if chunked else request.stream
    sock = request.environ.get("gunicorn.socket")
    try:
        if sock is not None:
            sock.settimeout(BODY_STALL_SECONDS)
        body = read_into(stream, buffer, limit)
    except (TimeoutError, OSError, ClientDisconnected) as err:  # Werkzeug wraps the timeout
        raise RequestTimeout(f"the body did not arrive (stalled {BODY_STALL_SECONDS} s, or "
                             "the client left)") from err
    finally:
        if sock is not None:
            sock.setblocking(True)
    if len(body) < (request.content_length or 0):  # cut off by the deadline, or abandoned
        raise RequestTimeout(f"the body stopped at {len(body)} of {request.content_length} "
                             "bytes")
    return body


def _called_url() -> str:
    """The URL the provider called, as it was sent (Twilio signs it percent-encoded, so it is
    never decoded here): WHATSAPP_PUBLIC_URL when set, else this request's (whose scheme and
    host honour X-Forwarded-* only when TRUSTED_PROXY_HOPS installed ProxyFix)."""
    public = current_app.config["SETTINGS"].whatsapp_public_url
    query = request.query_string.decode("latin-1")
    if public:
        return f"{public}?{query}" if query and "?" not in public else public
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    path = raw.split("?", 1)[0] if raw else quote(request.path, safe="/")
    return request.host_url.rstrip("/") + path + (f"?{query}" if query else "")
