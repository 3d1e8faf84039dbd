"""Read-only operator routes: sessions and a conversation's messages (bearer token required)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from app.errors import BadRequest, NotFound

bp = Blueprint("operators", __name__, url_prefix="/api/v1")
MAX_PAGE = 1_000_000


def _page() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 20))
    except ValueError:
        raise BadRequest("page and per_page must be whole numbers") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 100:
        raise BadRequest(f"page must be between 1 and {MAX_PAGE}, per_page between 1 and 100")
    return page, per_page


@bp.get("/whatsapp/sessions")
def sessions() -> Response:
    """Sessions, most recently active first."""
    store = current_app.extensions["store"]
    page, per_page = _page()
    items = store.sessions.list_recent(per_page, (page - 1) * per_page)
    return jsonify(items=[s.to_dict() for s in items], page=page, per_page=per_page,
                   total=store.sessions.count())


@bp.get("/conversations/<conversation_id>/messages")
def messages(conversation_id: str) -> Response:
    """A conversation's messages, oldest first, with each answer's send state."""
    store = current_app.extensions["store"]
    if store.sessions.find_by_conversation_id(conversation_id) is None:
        raise NotFound(f"no conversation {conversation_id}")
    page, per_page = _page()
    items = store.messages.list(conversation_id, per_page, (page - 1) * per_page)
    return jsonify(items=[m.to_dict() for m in items], page=page, per_page=per_page,
                   total=store.messages.count(conversation_id))
