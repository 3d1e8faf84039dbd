"""`/console`: a small server-rendered page for the team (no JavaScript): conversations that
need a person first, each conversation's timeline with delivery ticks and failures in plain
words, a reply box and the pause/resume switch.

It takes the operator token once, on its login form, and keeps it in an HttpOnly, SameSite=
Strict cookie scoped to `/console`; every form carries a token derived from it, so another
site cannot post on an operator's behalf.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from app.auth import check_token
from app.errors import Conflict, NotFound, Unauthorized
from app.services.store.base import MessageFilter, SessionFilter

bp = Blueprint("console", __name__, url_prefix="/console")
COOKIE = "console_token"
LISTED = 50
TIMELINE = 200

# Why an answer did not arrive, in the words the team uses.
REASONS = {
    "window_closed": "No enviado: pasaron más de 24 horas desde el último mensaje del cliente "
                     "(WhatsApp solo admite una plantilla).",
    "throttled": "El proveedor limitó los envíos (demasiados mensajes); se reintentó sin éxito.",
    "auth": "El proveedor rechazó nuestras credenciales (token caducado o incorrecto).",
    "invalid": "El proveedor rechazó el número o el mensaje.",
    "undeliverable": "El proveedor no puede entregarlo a este número (sin WhatsApp o bloqueado).",
    "transient": "Fallo de conexión o del proveedor: no se sabe si llegó.",
    "not_configured": "No enviado: el envío no está configurado (faltan credenciales).",
}
ATTENTION = {"wants_person": "Pide hablar con una persona",
             "failed_answer": "Una respuesta no llegó"}


@bp.before_request
def _signed_in() -> Response | None:
    """Every page but the login form needs the operator token from the cookie."""
    if request.endpoint in ("console.login", "console.sign_in"):
        return None
    token = request.cookies.get(COOKIE)
    try:
        claims = check_token(current_app.config["SETTINGS"].jwt_secret,
                             f"Bearer {token}" if token else None)
    except Unauthorized as err:
        if token:
            flash(f"Sesión no válida: {err.message}")
        return redirect(url_for("console.login"))
    g.operator, g.csrf = claims.get("sub") or "operator", _csrf(token)
    if request.method == "POST" and not hmac.compare_digest(
            request.form.get("csrf", ""), g.csrf):
        return Response("the form is stale or came from another site", 403)
    return None


def _csrf(token: str) -> str:
    secret = current_app.config["SETTINGS"].jwt_secret or ""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:32]


@bp.get("/login")
def login() -> str:
    """The form that takes an operator token (`flask issue-token`)."""
    return render_template("console/login.html")


@bp.post("/login")
def sign_in() -> Response:
    """Check the token and keep it in the cookie until it expires."""
    token = request.form.get("token", "").strip()
    try:
        claims = check_token(current_app.config["SETTINGS"].jwt_secret, f"Bearer {token}")
    except Unauthorized as err:
        flash(f"Token no válido: {err.message}")
        return redirect(url_for("console.login"))
    response = redirect(url_for("console.index"))
    response.set_cookie(COOKIE, token, max_age=max(1, int(claims["exp"] - time.time())),
                        path="/console", secure=request.is_secure, httponly=True,
                        samesite="Strict")
    return response


@bp.post("/logout")
def sign_out() -> Response:
    """Forget the token."""
    response = redirect(url_for("console.login"))
    response.delete_cookie(COOKIE, path="/console")
    return response


@bp.get("")
def index() -> str:
    """Conversations that need a person first, then the most recently active."""
    sessions = current_app.extensions["store"].sessions
    waiting = sessions.list_recent(LISTED, where=SessionFilter(needs_attention=True))
    seen = {s.conversation_id for s in waiting}
    recent = [s for s in sessions.list_recent(LISTED) if s.conversation_id not in seen]
    idle = current_app.extensions["handler"].handoff_idle
    return render_template("console/index.html", waiting=waiting, recent=recent, idle=idle,
                           attention=ATTENTION)


@bp.get("/conversations/<conversation_id>")
def conversation(conversation_id: str) -> str:
    """The conversation's latest messages, oldest first, with their ticks."""
    extensions = current_app.extensions
    session = extensions["operators"].session(conversation_id)
    newest = extensions["store"].messages.list(conversation_id, TIMELINE,
                                               where=MessageFilter(newest_first=True))
    return render_template("console/conversation.html", session=session,
                           messages=newest[::-1], paused=session.paused(
                               extensions["handler"].handoff_idle),
                           attention=ATTENTION, reasons=REASONS)


@bp.post("/conversations/<conversation_id>/reply")
def reply(conversation_id: str) -> Response:
    """Send the reply box's text as the operator."""
    text = request.form.get("text", "").strip()
    if not text:
        flash("Escribe un mensaje antes de enviarlo.")
    else:
        try:
            sent = current_app.extensions["operators"].send(conversation_id, text, g.operator)
            if sent.send_state != "sent":
                flash(f"El mensaje no se envió: {REASONS.get(sent.error_kind or '', '')}")
        except Conflict as err:
            flash(REASONS.get(err.code, err.message) if err.code == "window_closed"
                  else err.message)
        except NotFound:
            return Response("no such conversation", 404)
    return redirect(url_for("console.conversation", conversation_id=conversation_id))


@bp.post("/conversations/<conversation_id>/handoff")
def handoff(conversation_id: str) -> Response:
    """The pause/resume switch."""
    operators = current_app.extensions["operators"]
    try:
        if request.form.get("action") == "pause":
            operators.take(conversation_id, g.operator)
        else:
            operators.give_back(conversation_id, g.operator)
    except NotFound:
        return Response("no such conversation", 404)
    return redirect(url_for("console.conversation", conversation_id=conversation_id))


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened only for the console: the webhook and the API
    never use one, and would otherwise build a signer on every request."""

    def open_session(self, app, request):
        """The console's session; `None` (Flask's null session) anywhere else."""
        if not request.path.startswith(bp.url_prefix + "/"):
            return None
        return super().open_session(app, request)


def init_app(app) -> None:
    """Register the page; its flashed notes ride in a cookie signed with a key derived from
    JWT_SECRET (without one, nobody can sign in anyway)."""
    secret = app.config["SETTINGS"].jwt_secret
    app.secret_key = (hmac.new(secret.encode(), b"console-session", hashlib.sha256).digest()
                      if secret else os.urandom(32))
    app.config.update(SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True)
    app.session_interface = ConsoleSessions()
    app.register_blueprint(bp)
