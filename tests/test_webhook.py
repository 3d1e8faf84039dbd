"""The webhook over HTTP, per dialect: what the provider and the person see, what is stored."""

from __future__ import annotations

import io

import pytest

from app.services.texts import Texts
from tests.cases import (
    APP_SECRET,
    CASES,
    WEBHOOK_URL,
    CloudApiCase,
    GenericCase,
    TwilioCase,
    post,
    sends,
)

PATH = "/api/v1/whatsapp/webhook"


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request):
    return request.param


def conversation(app, wa_id="34600000001"):
    """The stored messages of `wa_id`'s conversation, oldest first."""
    store = app.extensions["store"]
    session = store.sessions.find_by_wa_id(wa_id)
    return [] if session is None else store.messages.list(session.conversation_id, 100)


def test_handshake_echoes_the_challenge(client):
    response = client.get(PATH, query_string={"hub.mode": "subscribe",
                                              "hub.verify_token": "verify-me",
                                              "hub.challenge": "1158201444"})
    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("query", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"},
    {"hub.verify_token": "verify-me", "hub.challenge": "1"},
    {},
])
def test_handshake_refuses_anything_else(client, query):
    assert client.get(PATH, query_string=query).status_code == 403


def test_handshake_refused_without_a_configured_token(make_app):
    client = make_app(WHATSAPP_VERIFY_TOKEN="").test_client()
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert client.get(PATH, query_string=query).status_code == 403


def test_text_gets_one_answer_and_both_sides_are_stored(case, app, client, provider):
    response = post(client, case, case.text("what can you do?"))
    assert response.status_code == 200
    if case.name == "twilio":
        assert response.mimetype == "text/xml" and "<Response/>" in response.text
    [sent] = sends(provider)
    to, text = case.sent_text(sent)
    assert "34600000001" in to and "virtual assistant" in text
    user, answer = conversation(app)
    assert (user.role, user.content, user.source, user.provider_message_id) == (
        "user", "what can you do?", "whatsapp", "m-1")
    assert (answer.role, answer.source, answer.send_state) == ("assistant", "whatsapp", "sent")
    assert answer.content == Texts().get("greeting", "en")
    assert len(answer.provider_message_ids) == 1


def test_the_bot_sees_the_conversation_history(case, app, client, provider):
    post(client, case, case.text("hello", message_id="m-1"))
    post(client, case, case.text("how do I delete my data", message_id="m-2"))
    messages = conversation(app)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert len(sends(provider)) == 2


def test_missing_signature_gets_401_and_nothing_happens(case, app, client, provider):
    response = post(client, case, case.text(), signed=False)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "signature_missing"
    assert (conversation(app), sends(provider)) == ([], [])


def test_wrong_signature_gets_403_and_nothing_happens(case, app, client, provider):
    response = post(client, case, case.text(), secret="forged")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "signature_invalid"
    assert (conversation(app), sends(provider)) == ([], [])


def test_report_mode_logs_but_accepts_a_wrong_signature(case, make_app, provider, caplog):
    client = make_app(WHATSAPP_SIGNATURE_MODE="report").test_client()
    assert post(client, case, case.text(), secret="forged").status_code == 200
    assert len(sends(provider)) == 1
    assert "signature check failed" in caplog.text


def test_a_rotated_out_secret_still_verifies(make_app, provider):
    client = make_app(WHATSAPP_APP_SECRET="new-secret, app-secret-1").test_client()
    case = CloudApiCase()
    assert post(client, case, case.text()).status_code == 200


def test_without_any_secret_webhooks_are_accepted_unsigned(make_app, provider, caplog):
    client = make_app(WHATSAPP_APP_SECRET="", WHATSAPP_TOKEN="").test_client()
    assert "NOT authenticated" in caplog.text
    case = CloudApiCase()
    assert post(client, case, case.text(), signed=False).status_code == 200


@pytest.mark.parametrize("body, content_type, code", [
    (b'{"hello": "world"}', "application/json", "unknown_payload"),
    (b'{"object": "page", "entry": []}', "application/json", "unknown_payload"),
    (b"[]", "application/json", "unknown_payload"),
    (b"Foo=bar", "application/x-www-form-urlencoded", "malformed_body"),
    (b'{"object": ', "application/json", "malformed_body"),
    (b"\xff\xfe", "application/json", "malformed_body"),
])
def test_a_signed_body_its_dialect_does_not_understand_gets_400(app, client, provider, body,
                                                                  content_type, code):
    signature = CloudApiCase().signature(body, APP_SECRET, "")
    response = client.post(PATH, data=body, content_type=content_type,
                           headers={"X-Hub-Signature-256": signature})
    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert (app.extensions["store"].sessions.count(), sends(provider)) == (0, [])


@pytest.mark.parametrize("body, content_type, code", [
    (b'{"hello": "world"}', "application/json", "unknown_payload"),
    (b"Foo=bar", "application/x-www-form-urlencoded", "unknown_payload"),
    (b'{"object": ', "application/json", "malformed_body"),
])
def test_with_signatures_off_a_body_no_dialect_understands_gets_400(make_app, body,
                                                                    content_type, code):
    client = make_app(WHATSAPP_APP_SECRET="", WHATSAPP_SIGNATURE_MODE="off").test_client()
    response = client.post(PATH, data=body, content_type=content_type)
    assert (response.status_code, response.json["error"]["code"]) == (400, code)


def test_an_unsigned_body_is_refused_before_it_is_read(client):
    response = client.post(PATH, data=b"[" * 5000, content_type="application/json")
    assert (response.status_code, response.json["error"]["code"]) == (401, "signature_missing")


def test_provider_mismatch_gets_400_naming_both(case, make_app, provider):
    other = "generic" if case.name != "generic" else "twilio"
    client = make_app(WHATSAPP_PROVIDER=other).test_client()
    response = post(client, case, case.text())
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "provider_mismatch",
        "message": f"request is signed as {case.name} but WHATSAPP_PROVIDER is {other}"}
    assert sends(provider) == []


NON_TEXT = [(case, name, kind, notice) for case in CASES
            for name, (kind, notice) in case.non_text.items()]


@pytest.mark.parametrize("case, name, kind, notice", NON_TEXT,
                         ids=[f"{c.name}-{n}" for c, n, *_ in NON_TEXT])
def test_non_text_gets_the_notice_or_nothing(make_app, provider, case, name, kind, notice):
    app = make_app(WHATSAPP_UNSUPPORTED_REPLY="Text only, please.")
    assert post(app.test_client(), case, case.payload(name)).status_code == 200
    expected = ["Text only, please."] if notice else []
    assert [case.sent_text(r)[1] for r in sends(provider)] == expected
    # Stored for the operators with its kind; the bot was not asked.
    stored = [(m.role, m.kind, m.status) for m in conversation(app)]
    assert stored == [("user", kind, "done")] + ([("assistant", "notice", "done")] if notice
                                                 else [])


def test_an_empty_unsupported_reply_disables_the_notice(make_app, provider):
    case = CloudApiCase()
    client = make_app(WHATSAPP_UNSUPPORTED_REPLY="").test_client()
    assert post(client, case, case.payload("image")).status_code == 200
    assert sends(provider) == []


def test_the_default_notice_is_sent_in_the_persons_language(client, provider):
    case = CloudApiCase()
    post(client, case, case.payload("audio"))
    post(client, case, case.text("How long does shipping to Portugal take?", message_id="m-2"))
    post(client, case, case.payload("image"))
    notices = [case.sent_text(sent)[1] for sent in sends(provider)]
    assert (notices[0], notices[-1]) == (Texts().get("unsupported", "es"),
                                         Texts().get("unsupported", "en"))


@pytest.mark.parametrize("case, name", [(c, n) for c in CASES for n in c.statuses],
                         ids=lambda v: getattr(v, "name", v))
def test_statuses_are_acknowledged_without_a_reply(client, provider, case, name):
    assert post(client, case, case.payload(name)).status_code == 200
    assert sends(provider) == []


def test_several_messages_in_one_post_each_get_one_answer(app, client, provider):
    case = CloudApiCase()
    response = post(client, case, case.payload("several"))
    assert (response.status_code, response.json["events"]) == (200, 3)
    assert sorted(r.json()["to"] for r in sends(provider)) == [
        "34600000001", "34600000002", "551187654321"]


def test_a_person_with_a_username_and_no_phone_number_gets_their_answer(app, client,
                                                                        provider):
    """Meta withholds the phone number of a person who took a username: `from` and `wa_id`
    are gone, and the business-scoped user id is who we answer."""
    case = CloudApiCase()
    assert post(client, case, case.payload("username")).status_code == 200
    [sent] = sends(provider)
    assert sent.json()["recipient"] == "ES.13491208655302741918" and "to" not in sent.json()
    [user, answer] = conversation(app, "ES.13491208655302741918")
    assert (user.content, answer.send_state) == ("hola, ¿hacéis envíos a Canarias?", "sent")


@pytest.mark.parametrize("escaped, stored", [
    ("hola \\ud83d", "hola \ufffd"),                  # a lone surrogate: no character
    ("hola \\ud83e\\udd16", "hola \U0001f916"),      # an escaped pair: one emoji
])
def test_json_escapes_are_stored_as_characters(app, client, provider, escaped, stored):
    case = CloudApiCase()
    body = case.encode(case.text("PLACEHOLDER")).replace(b"PLACEHOLDER", escaped.encode())
    response = client.post(PATH, data=body, headers=case.headers(body, WEBHOOK_URL, None))
    client.application.extensions["dispatcher"].wait_idle()
    assert response.status_code == 200
    assert conversation(app)[0].content == stored


def test_a_generic_array_carries_several_messages(client, provider):
    case = GenericCase()
    batch = [case.text("first", wa_id="34600000001", message_id="u-1"),
             case.text("second", wa_id="34600000002", message_id="u-2"),
             case.payload("status_delivered")]
    response = post(client, case, batch)
    assert (response.status_code, response.json["events"]) == (200, 3)
    assert sorted(r.json()["to"] for r in sends(provider)) == ["34600000001", "34600000002"]
    assert post(client, case, batch).status_code == 200  # a provider's retry: nothing new
    assert len(sends(provider)) == 2


def test_generic_array_items_without_ids_are_told_apart_and_retries_recognised(client,
                                                                                provider):
    case = GenericCase()
    same = {"from": "34600000001", "text": "hola"}
    assert post(client, case, [same, same]).json["events"] == 2
    assert post(client, case, [same, same]).json["events"] == 2  # the same body, retried
    assert len(sends(provider)) == 2


def malformed_second_message(case):
    """`case`'s several-message payload whose second message lost its sender; the path of
    that message, and who is still answered."""
    if isinstance(case, CloudApiCase):
        payload = case.payload("several")
        del payload["entry"][0]["changes"][0]["value"]["messages"][1]["from"]
        return payload, "entry[0].changes[0].value.messages[1]", ["34600000001", "551187654321"]
    return ([case.text("first", message_id="u-1"), {"id": "u-2", "text": "no sender"},
             case.text("third", wa_id="34600000003", message_id="u-3")], "[1]",
            ["34600000001", "34600000003"])


@pytest.mark.parametrize("case", [CloudApiCase(), GenericCase()], ids=lambda c: c.name)
def test_one_malformed_message_never_costs_the_others(client, provider, case):
    payload, at, answered = malformed_second_message(case)
    response = post(client, case, payload)
    assert (response.status_code, response.json["events"]) == (200, 2)
    assert response.json["rejected"] == [
        {"at": at, "errors": {"from": ["Missing data for required field."]}}]
    assert sorted(r.json()["to"] for r in sends(provider)) == answered


@pytest.mark.parametrize("case", [CloudApiCase(), GenericCase()], ids=lambda c: c.name)
def test_a_payload_with_nothing_valid_gets_400_naming_each_item(app, client, provider, case):
    if isinstance(case, CloudApiCase):
        payload = case.text("hello")
        del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        code, at = "no_valid_item", "entry[0].changes[0].value.messages[0]"
    else:
        payload, code, at = [{"id": "u-1", "text": "no sender"}], "unknown_payload", "[0]"
    response = post(client, case, payload)
    assert (response.status_code, response.json["error"]["code"]) == (400, code)
    assert at in str(response.json["error"]["details"])
    assert (app.extensions["store"].sessions.count(), sends(provider)) == (0, [])


class LongAnswer:
    """A bot whose answer is longer than any provider's limit."""

    def answer(self, question, history, language):
        paragraph = "Our service explains every detail of the policy in plain words. " * 30
        return "**Policy**\n\n" + "\n\n".join([paragraph.strip()] * 6)


def test_a_long_answer_is_split_under_the_dialects_limit(case, app, provider):
    app.extensions["handler"].chat.bot = LongAnswer()
    post(app.test_client(), case, case.text("explain the policy"))
    parts = [case.sent_text(r)[1] for r in sends(provider)]
    assert len(parts) > 1
    assert all(len(part) <= case.max_len for part in parts)
    assert [part.rsplit(" ", 1)[1] for part in parts] == [
        f"({n}/{len(parts)})" for n in range(1, len(parts) + 1)]
    answer = conversation(app)[-1]
    assert " ".join(" ".join(p.rsplit(" ", 1)[0] for p in parts).split()) == " ".join(
        answer.content.replace("**Policy**", "*Policy*").split())
    assert len(answer.provider_message_ids) == len(parts)


def test_a_provider_error_is_stored_and_the_webhook_still_acknowledges(case, app, client,
                                                                       requests_mock, caplog):
    requests_mock.post(case.send_url, status_code=case.error_status, json=case.error_body)
    assert post(client, case, case.text()).status_code == 200
    answer = conversation(app)[-1]
    assert (answer.send_state, answer.error_code) == ("failed", case.error_code)
    assert f"error_code={case.error_code}" in caplog.text


def test_missing_credentials_store_the_answer_as_not_sent(case, make_app, requests_mock):
    app = make_app(WHATSAPP_TOKEN="", WHATSAPP_APP_SECRET="")
    assert post(app.test_client(), case, case.text(), signed=False).status_code == 200
    answer = conversation(app)[-1]
    assert (answer.send_state, answer.error_code) == ("not_sent", "not_configured")
    assert requests_mock.call_count == 0


def test_a_proxied_twilio_url_verifies_only_behind_a_trusted_proxy(make_app, provider):
    case = TwilioCase()
    public = "https://gw.example.com/api/v1/whatsapp/webhook"
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gw.example.com"}
    trusted = make_app(TRUSTED_PROXY_HOPS="1").test_client()
    assert post(trusted, case, case.text(), headers={
        **forwarded, case.signature_header: case.signature(
            case.encode(case.text()), case.secret(), public)}).status_code == 200
    untrusted = make_app().test_client()
    assert post(untrusted, case, case.text(), headers={
        **forwarded, case.signature_header: case.signature(
            case.encode(case.text()), case.secret(), public)}).status_code == 403


def test_twilio_signs_over_the_public_url_when_set(make_app, provider):
    case = TwilioCase()
    public = "https://gw.example.com/hooks/whatsapp"
    client = make_app(WHATSAPP_PUBLIC_URL=public).test_client()
    body = case.encode(case.text())
    signature = {case.signature_header: case.signature(body, case.secret(), public)}
    assert post(client, case, case.text(), headers=signature).status_code == 200
    assert post(client, case, case.text(), url=WEBHOOK_URL).status_code == 403


def test_a_body_over_4_mib_gets_413(client, provider):
    response = client.post(PATH, data=b"x" * (4 * 1024 * 1024 + 1),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


@pytest.mark.parametrize("query", ["t=caf%C3%A9", "n=%2Fx", "k=%7E", "a=1&b=%20"])
def test_twilio_signs_the_url_as_sent_percent_encoded(client, provider, query):
    case = TwilioCase()
    url = f"{WEBHOOK_URL}?{query}"
    assert post(client, case, case.text(), url=url).status_code == 200


def test_a_chunked_body_over_4_mib_gets_413(client, provider):
    body = io.BytesIO(b"x" * (4 * 1024 * 1024 + 65536))
    response = client.post(PATH, input_stream=body, content_type="application/json",
                           headers={"Transfer-Encoding": "chunked",
                                    "X-Hub-Signature-256": "sha256=" + "0" * 64},
                           environ_overrides={"wsgi.input_terminated": True})  # as gunicorn
    assert response.status_code == 413


@pytest.mark.parametrize("path", [PATH + "/", "/api/v1/whatsapp/webhok", "/nothing"])
def test_a_mistyped_path_is_404_not_401(client, path):
    assert client.post(path, data=b"{}").status_code == 404


def test_a_forged_twilio_post_is_refused_when_only_twilio_can_be_verified(make_app, provider):
    case = TwilioCase()
    client = make_app(WHATSAPP_APP_SECRET="").test_client()  # a token, no app secret, unpinned
    assert post(client, case, case.text(), secret="forged").status_code == 403
    cloud = CloudApiCase()
    assert post(client, cloud, cloud.text()).status_code == 403  # no secret to verify with
    assert sends(provider) == []


def test_an_unsigned_post_of_any_size_gets_a_small_answer(client):
    for body in (b"[" + b"1," * 300_000 + b"1]", b"x" * 3 * 1024 * 1024):
        response = client.post(PATH, data=body, content_type="application/json")
        assert response.status_code == 401 and len(response.data) < 1024
