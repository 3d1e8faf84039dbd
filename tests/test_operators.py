"""Operator routes behind bearer JWTs, and the command that issues a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth import issue_token
from tests.cases import CloudApiCase, post

SECRET = "jwt-secret-for-tests-0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef-xyz"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token():
    return issue_token(SECRET, "qa", timedelta(minutes=5))


@pytest.mark.parametrize("headers, message", [
    ({}, "missing bearer token"),
    ({"Authorization": "Basic abc"}, "missing bearer token"),
    (bearer("not.a.jwt"), "invalid token"),
    (bearer(issue_token(OTHER_SECRET, "qa", timedelta(minutes=5))), "invalid token"),
    (bearer(issue_token(SECRET, "qa", timedelta(minutes=-1))), "token expired"),
    (bearer(jwt.encode({"sub": "qa"}, SECRET, "HS256")), "invalid token"),
])
def test_operator_routes_need_a_valid_token(client, headers, message):
    response = client.get("/api/v1/whatsapp/sessions", headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == {"code": "unauthorized", "message": message}


def test_an_unknown_route_is_404_and_a_known_one_still_needs_a_token(client):
    assert client.get("/api/v1/anything").status_code == 404
    assert client.get("/api/v1/whatsapp/sessions").status_code == 401


def test_public_paths_are_exact(client):
    assert client.get("/healthz/").status_code in (401, 404)
    assert client.get("/healthz").status_code == 200


def test_without_jwt_secret_operator_routes_are_closed(make_app, token):
    client = make_app(JWT_SECRET="").test_client()
    response = client.get("/api/v1/whatsapp/sessions", headers=bearer(token))
    assert response.status_code == 401
    assert "JWT_SECRET" in response.json["error"]["message"]


def test_sessions_and_messages_for_an_operator(client, provider, token):
    case = CloudApiCase()
    post(client, case, case.text("hello", wa_id="34600000001", message_id="a"))
    post(client, case, case.text("hello", wa_id="34600000002", message_id="b"))
    sessions = client.get("/api/v1/whatsapp/sessions", headers=bearer(token)).json
    assert [s["wa_id"] for s in sessions["items"]] == ["34600000002", "34600000001"]
    assert sessions["total"] == 2
    page = client.get("/api/v1/whatsapp/sessions?per_page=1&page=2", headers=bearer(token)).json
    assert [s["wa_id"] for s in page["items"]] == ["34600000001"]

    conversation_id = sessions["items"][0]["conversation_id"]
    messages = client.get(f"/api/v1/conversations/{conversation_id}/messages",
                          headers=bearer(token)).json
    assert [(m["role"], m.get("send_state")) for m in messages["items"]] == [
        ("user", None), ("assistant", "sent")]
    assert "error_kind" not in messages["items"][1]  # only the fields that hold something
    assert messages["items"][1]["provider_message_ids"][0].startswith("wamid.out")


def test_unknown_conversation_is_404(client, token):
    response = client.get("/api/v1/conversations/nope/messages", headers=bearer(token))
    assert response.status_code == 404


@pytest.mark.parametrize("query", ["page=0", "per_page=1000", "page=x"])
def test_bad_pagination_is_400(client, token, query):
    response = client.get(f"/api/v1/whatsapp/sessions?{query}", headers=bearer(token))
    assert response.status_code == 400


def test_issue_token_command_prints_a_working_token(runner, client):
    result = runner.invoke(args=["issue-token", "--subject", "ops", "--hours", "1"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "ops"
    assert client.get("/api/v1/whatsapp/sessions", headers=bearer(token)).status_code == 200


def test_issue_token_command_without_secret_fails_clearly(make_app):
    result = make_app(JWT_SECRET="").test_cli_runner().invoke(args=["issue-token"])
    assert result.exit_code != 0
    assert "JWT_SECRET is not set" in result.output


@pytest.mark.parametrize("query", ["page=9223372036854775807", "page=1000001", "per_page=0"])
def test_an_absurd_page_is_400(client, token, query):
    response = client.get(f"/api/v1/whatsapp/sessions?{query}", headers=bearer(token))
    assert response.status_code == 400


@pytest.mark.parametrize("lifetime", [timedelta(days=31), timedelta(days=10**6)])
def test_a_token_living_too_long_is_refused(client, lifetime):
    now = datetime.now(UTC)
    token = jwt.encode({"sub": "x", "iat": now, "exp": now + lifetime}, SECRET, "HS256")
    assert client.get("/api/v1/whatsapp/sessions", headers=bearer(token)).status_code == 401


def test_a_token_with_an_absurd_exp_is_refused(client):
    token = jwt.encode({"sub": "x", "iat": 1, "exp": 1e300}, SECRET, "HS256")
    assert client.get("/api/v1/whatsapp/sessions", headers=bearer(token)).status_code == 401
