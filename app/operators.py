"""Operator routes (bearer token required): find conversations and messages, read a message's
whole story, take a conversation from the bot, answer as a person, and give it back."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from app.api_docs import documented
from app.errors import BadRequest
from app.services.store.base import ATTENTION_REASONS, MessageFilter, SessionFilter

bp = Blueprint("operators", __name__, url_prefix="/api/v1")
MAX_PAGE = 1_000_000
SEND_STATES = ("pending", "sending", "sent", "failed", "not_sent")
MAX_OPERATOR_TEXT = 4096


class PageQuery(Schema):
    """Which page."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class SessionsQuery(PageQuery):
    """Filters of the sessions list."""

    wa_id = fields.String(validate=validate.Length(1, 140), metadata={
        "description": "One person's WhatsApp id: digits, or a business-scoped user id "
                       "(`ES.1349...`) for a person with a username."})
    needs_attention = fields.Boolean(load_default=False, metadata={
        "description": "Only conversations with a failed answer or waiting for a person."})


class MessagesQuery(PageQuery):
    """Filters and order of a conversation's messages."""

    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))
    send_state = fields.String(validate=validate.OneOf(SEND_STATES))
    error_kind = fields.String(validate=validate.Length(1, 40), metadata={
        "description": "A failed send's or a failed delivery's kind (window_closed, auth, "
                       "throttled, invalid, undeliverable, transient)."})
    full = fields.Boolean(load_default=False, metadata={
        "description": "Every field, empty ones too."})


class OperatorMessageIn(Schema):
    """An operator's reply."""

    text = fields.String(required=True, validate=[
        validate.Length(1, MAX_OPERATOR_TEXT),
        validate.Predicate("strip", error="must not be blank")])


class SessionOut(Schema):
    """A person's conversation."""

    wa_id = fields.String()
    conversation_id = fields.String()
    phone_number_id = fields.String(allow_none=True)
    profile_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    last_inbound_at = fields.DateTime(allow_none=True)
    paused = fields.Boolean(metadata={"description": "An operator has it; the bot is quiet."})
    handoff_by = fields.String(allow_none=True)
    handoff_at = fields.DateTime(allow_none=True)
    operator_at = fields.DateTime(allow_none=True)
    attention = fields.String(allow_none=True, validate=validate.OneOf(ATTENTION_REASONS))
    attention_at = fields.DateTime(allow_none=True)


class MessageOut(Schema):
    """A stored message: the person's, the bot's or an operator's, with its send state."""

    id = fields.String()
    conversation_id = fields.String()
    role = fields.String(validate=validate.OneOf(("user", "assistant")))
    content = fields.String()
    source = fields.String()
    author = fields.String(allow_none=True)
    kind = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    position = fields.Integer()
    dialect = fields.String()
    wa_id = fields.String()
    provider_message_id = fields.String(allow_none=True)
    in_reply_to = fields.String(allow_none=True)
    send_state = fields.String(allow_none=True, validate=validate.OneOf(SEND_STATES))
    parts_sent = fields.Integer()
    provider_message_ids = fields.List(fields.String())
    attempts = fields.Integer()
    error_kind = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    delivery_status = fields.String(allow_none=True)
    delivery_error_kind = fields.String(allow_none=True)
    delivery_error_code = fields.String(allow_none=True)
    delivery_error_title = fields.String(allow_none=True)


class EventOut(Schema):
    """One step of a message's story: received, reply stored, a send attempt, a status."""

    type = fields.String(validate=validate.OneOf(("received", "stored_reply", "attempt",
                                                  "status")))
    at = fields.DateTime()
    part = fields.Integer()
    parts = fields.Integer()
    accepted = fields.Boolean()
    http_status = fields.Integer(allow_none=True)
    retry = fields.Boolean()
    status = fields.String()
    provider_message_id = fields.String(allow_none=True)
    error_kind = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)


class StoryOut(Schema):
    """A message's whole story."""

    inbound = fields.Nested(MessageOut, allow_none=True)
    reply = fields.Nested(MessageOut, allow_none=True)
    timeline = fields.List(fields.Nested(EventOut))


class SessionPage(Schema):
    """A page of sessions."""

    items = fields.List(fields.Nested(SessionOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class MessagePage(Schema):
    """A page of messages."""

    items = fields.List(fields.Nested(MessageOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ErrorOut(Schema):
    """The uniform error body."""

    error = fields.Dict(metadata={"description": "code, message and optional details"})


SCHEMAS = {"Session": SessionOut, "Message": MessageOut, "Event": EventOut, "Story": StoryOut,
           "Error": ErrorOut}


def _load(schema: type[Schema], data) -> dict:
    try:
        return schema().load(data)
    except ValidationError as err:
        raise BadRequest("invalid request: " + "; ".join(
            f"{name}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
            for name, problems in err.messages.items()), details=err.messages) from None


def session_json(session) -> dict:
    """A session as the API shows it, with whether an operator has it now."""
    return {**session.to_dict(), "paused": session.paused(_idle())}


def message_json(message, full: bool = False) -> dict:
    """A message, only with the fields that hold something unless `full`."""
    data = message.to_dict()
    return data if full else {k: v for k, v in data.items() if v not in (None, "", [])}


def _idle():
    return current_app.extensions["handler"].handoff_idle


@bp.get("/whatsapp/sessions")
@documented("List conversations", query=SessionsQuery, responses={200: SessionPage})
def sessions() -> Response:
    """Sessions, most recently active first; `wa_id` finds one person's,
    `needs_attention=true` those with a failed answer or waiting for a person."""
    store = current_app.extensions["store"]
    args = _load(SessionsQuery, request.args)
    where = SessionFilter(wa_id=args.get("wa_id"), needs_attention=args["needs_attention"])
    page, per_page = args["page"], args["per_page"]
    items = store.sessions.list_recent(per_page, (page - 1) * per_page, where)
    return jsonify(items=[session_json(s) for s in items], page=page, per_page=per_page,
                   total=store.sessions.count(where))


@bp.get("/conversations/<conversation_id>/messages")
@documented("A conversation's messages", query=MessagesQuery,
            responses={200: MessagePage, 404: ErrorOut})
def messages(conversation_id: str) -> Response:
    """Oldest first (`order=desc`: newest first), optionally only those with a send state or
    error kind; fields without a value are left out unless `full=true`."""
    store = current_app.extensions["store"]
    current_app.extensions["operators"].session(conversation_id)
    args = _load(MessagesQuery, request.args)
    where = MessageFilter(send_state=args.get("send_state"), error_kind=args.get("error_kind"),
                          newest_first=args["order"] == "desc")
    page, per_page = args["page"], args["per_page"]
    items = store.messages.list(conversation_id, per_page, (page - 1) * per_page, where)
    return jsonify(items=[message_json(m, args["full"]) for m in items], page=page,
                   per_page=per_page, total=store.messages.count(conversation_id, where))


@bp.post("/conversations/<conversation_id>/messages")
@documented("Send an operator's reply", body=OperatorMessageIn,
            responses={201: MessageOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut})
def send(conversation_id: str) -> tuple[Response, int]:
    """Formatted, split and sent like an answer, stored with `source=operator`; the answer
    says how sending went. 409 `window_closed` when the person last wrote more than 24 hours
    ago."""
    if not request.is_json:
        raise BadRequest("send a JSON body: {\"text\": \"...\"}")
    body = _load(OperatorMessageIn, request.get_json(silent=True))
    message = current_app.extensions["operators"].send(conversation_id, body["text"].strip(),
                                                       g.operator)
    return jsonify(message_json(message)), 201


@bp.post("/conversations/<conversation_id>/handoff")
@documented("Pause the bot: a person takes the conversation",
            responses={200: SessionOut, 404: ErrorOut})
def hand_off(conversation_id: str) -> Response:
    """The operator (the token's subject) and the time are stored. The person's messages are
    stored and acknowledged but not answered until `DELETE`, or until no operator message
    has been sent for HANDOFF_IDLE_MINUTES."""
    session = current_app.extensions["operators"].take(conversation_id, g.operator)
    return jsonify(session_json(session))


@bp.delete("/conversations/<conversation_id>/handoff")
@documented("Give the conversation back to the bot",
            responses={200: SessionOut, 404: ErrorOut})
def hand_back(conversation_id: str) -> Response:
    """The bot answers the next message; the attention flag is cleared."""
    session = current_app.extensions["operators"].give_back(conversation_id, g.operator)
    return jsonify(session_json(session))


@bp.get("/messages/<provider_message_id>")
@documented("A message's whole story", responses={200: StoryOut, 404: ErrorOut})
def story(provider_message_id: str) -> Response:
    """Found by the person's message id or any id of our reply's parts: both messages, every
    send attempt (time, part, HTTP status, provider code, retried or not) and every delivery
    status received, in time order."""
    found = current_app.extensions["operators"].story(provider_message_id)
    return jsonify(inbound=found["inbound"] and message_json(found["inbound"]),
                   reply=found["reply"] and message_json(found["reply"]),
                   timeline=found["timeline"])


@bp.get("/openapi.json")
@documented("This API's OpenAPI description", public=True, tag="meta")
def openapi() -> Response:
    """OpenAPI 3.0, built from the routes and their marshmallow schemas."""
    from app.api_docs import build_spec
    from app.webhook import SCHEMAS as WEBHOOK_SCHEMAS

    return jsonify(build_spec(current_app, {**SCHEMAS, **WEBHOOK_SCHEMAS}))
