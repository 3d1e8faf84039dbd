"""The public webhook: Meta's verification handshake and every provider's POSTs."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from dialects.base import WebhookRequest

WEBHOOK_PATH = "/api/v1/whatsapp/webhook"

bp = Blueprint("webhook", __name__)


@bp.get(WEBHOOK_PATH)
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
def healthz() -> Response:
    """200 while the process serves."""
    return jsonify(status="ok")


@bp.post(WEBHOOK_PATH)
def receive() -> Response:
    """Store the events of a provider's POST, acknowledge them, and answer in the background.

    Nothing is acknowledged before it is stored: a store outage answers 503 and the provider
    retries; a retried or duplicated message is recognised by its provider id and ignored.
    """
    extensions = current_app.extensions
    accepted = extensions["receiver"].accept(WebhookRequest(
        body=request.get_data(cache=True), content_type=request.mimetype,
        headers=request.headers, url=_called_url(),
    ))
    extensions["schema"].ensure()
    waiting = [extensions["handler"].record(event) for event in accepted.events]
    for conversation_id in dict.fromkeys(filter(None, waiting)):
        extensions["dispatcher"].submit(conversation_id)
    body, mimetype = accepted.dialect.acknowledgement(len(accepted.events))
    return Response(body, 200, mimetype=mimetype)


def _called_url() -> str:
    """The URL the provider called: WHATSAPP_PUBLIC_URL when set, else this request's URL
    (which honours X-Forwarded-* only when TRUSTED_PROXY_HOPS installed ProxyFix)."""
    public = current_app.config["SETTINGS"].whatsapp_public_url
    if not public:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{public}?{query}" if query and "?" not in public else public
