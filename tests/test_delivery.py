"""Answers that arrive, or say precisely why not: error kinds, safe retries, the 24-hour window,
read receipts and typing, and readiness."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from app.auth import issue_token
from app.services.delivery import retry_delay
from dialects.client import SendResult
from tests.cases import CloudApiCase, GenericCase, TwilioCase, post, receipts, sends
from tests.test_dialects import client_for
from tests.test_exactly_once import Bot
from tests.test_operators import SECRET, bearer

cloud, twilio, generic = CloudApiCase(), TwilioCase(), GenericCase()


def graph_error(code: int, message: str, kind: str = "OAuthException") -> dict:
    """A Graph API error body as the Cloud API returns it."""
    return {"error": {"message": message, "type": kind, "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": message},
                      "fbtrace_id": "AQ9c3HRFcFhIqbrEL9Xb1Wq"}}


def twilio_error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def vonage_error(slug: str, title: str, page: str = "") -> dict:
    """An RFC 7807 problem as Vonage answers it (`page`: `/messages-olympus` for its codes)."""
    return {"type": f"https://developer.vonage.com/api-errors{page}#{slug}", "title": title,
            "detail": title, "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}


# (case, HTTP status, body, kind, retryable, provider code)
REFUSALS = [
    (cloud, 400, graph_error(130429, "(#130429) Rate limit hit"), "throttled", True, "130429"),
    (cloud, 400, graph_error(131056, "(#131056) (Business Account, Consumer Account) pair "
                                     "rate limit hit"), "throttled", True, "131056"),
    (cloud, 400, graph_error(80007, "(#80007) Rate limit issues"), "throttled", True, "80007"),
    (cloud, 400, graph_error(4, "(#4) Application request limit reached"), "throttled", True,
     "4"),
    (cloud, 400, graph_error(131047, "(#131047) Re-engagement message"), "window_closed",
     False, "131047"),
    (cloud, 401, graph_error(190, "Error validating access token: Session has expired"),
     "auth", False, "190"),
    (cloud, 400, graph_error(100, "(#100) Invalid parameter"), "invalid", False, "100"),
    (cloud, 400, graph_error(131026, "Message Undeliverable."), "undeliverable", False,
     "131026"),
    (cloud, 500, graph_error(1, "An unknown error occurred"), "transient", False, "1"),
    (cloud, 503, graph_error(2, "Service temporarily unavailable"), "transient", True, "2"),
    (twilio, 429, twilio_error(20429, "Too Many Requests", 429), "throttled", True, "20429"),
    (twilio, 401, twilio_error(20003, "Authenticate", 401), "auth", False, "20003"),
    (twilio, 400, twilio_error(21211, "The 'To' number whatsapp:+34600000001 is not a valid "
                                      "phone number.", 400), "invalid", False, "21211"),
    (twilio, 400, twilio_error(21617, "The concatenated message body exceeds the 1600 "
                                      "character limit.", 400), "invalid", False, "21617"),
    (twilio, 400, twilio_error(63016, "Failed to send freeform message because you are "
                                      "outside the allowed window.", 400), "window_closed",
     False, "63016"),
    (twilio, 429, twilio_error(63018, "Rate limit exceeded for Channel", 429), "throttled",
     True, "63018"),
    (twilio, 400, twilio_error(63024, "Invalid message recipient", 400), "undeliverable",
     False, "63024"),
    (twilio, 400, twilio_error(63003, "Channel could not find To address", 400),
     "undeliverable", False, "63003"),
    (twilio, 500, twilio_error(20500, "Internal Server Error", 500), "transient", False,
     "20500"),
    (generic, 429, vonage_error("throttled", "Too Many Requests"), "throttled", True,
     "throttled"),
    (generic, 401, vonage_error("unauthorized", "Invalid credentials supplied"), "auth", False,
     "unauthorized"),
    (generic, 422, vonage_error("1150", "Invalid params"), "invalid", False, "1150"),
    (generic, 429, vonage_error("1000", "Throttled", "/messages-olympus"), "throttled", True,
     "1000"),
    (generic, 422, vonage_error("1050", "Number barred", "/messages-olympus"), "undeliverable",
     False, "1050"),
    (generic, 403, vonage_error("1060", "Partner account barred", "/messages-olympus"), "auth",
     False, "1060"),
    (generic, 500, vonage_error("internal", "Internal Error"), "transient", False, "internal"),
]


@pytest.mark.parametrize("case, status, body, kind, retryable, code", REFUSALS,
                         ids=[f"{c.name}-{k}-{code}" for c, _, _, k, _, code in REFUSALS])
def test_every_refusal_has_a_kind_and_keeps_the_providers_words(
        requests_mock, case, status, body, kind, retryable, code):
    requests_mock.post(case.send_url, status_code=status, json=body)
    result = client_for(case).send_text("34600000001", "hi", "106540352242922")
    assert (result.accepted, result.kind, result.retryable, result.error_code) == (
        False, kind, retryable, code)
    assert result.error_message


def refused_connection() -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(
        None, "/messages", NewConnectionError(None, "Connection refused")))


@pytest.mark.parametrize("error, code, retryable", [
    (requests.ConnectTimeout("connect timed out"), "timeout", True),
    (refused_connection(), "connection_error", True),
    (requests.ReadTimeout("read timed out"), "timeout", False),
    (requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())),
     "connection_error", False),
])
def test_network_failures_are_retryable_only_if_the_request_never_left(
        requests_mock, error, code, retryable):
    requests_mock.post(cloud.send_url, exc=error)
    result = client_for(cloud).send_text("34600000001", "hi", "106540352242922")
    assert (result.kind, result.error_code, result.retryable) == ("transient", code, retryable)


@pytest.mark.parametrize("header, seconds", [("7", 7.0), ("0", 0.0), ("soon", None)])
def test_retry_after_is_read(requests_mock, header, seconds):
    requests_mock.post(cloud.send_url, status_code=429, headers={"Retry-After": header},
                       json=graph_error(130429, "(#130429) Rate limit hit"))
    result = client_for(cloud).send_text("34600000001", "hi", "106540352242922")
    assert result.retry_after == seconds


def test_retry_after_as_an_http_date(requests_mock):
    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    requests_mock.post(cloud.send_url, status_code=429, headers={"Retry-After": when}, json={})
    result = client_for(cloud).send_text("34600000001", "hi", "106540352242922")
    assert 25 <= result.retry_after <= 30


@pytest.mark.parametrize("attempt, retry_after, expected", [
    (1, None, 0.5), (2, None, 1.0), (3, None, 2.0), (10, None, 15.0),
    (1, 4.0, 4.0), (1, 120.0, 30.0),
])
def test_retry_delay_is_jittered_backoff_or_retry_after_and_capped(attempt, retry_after,
                                                                   expected):
    assert retry_delay(attempt, retry_after, base=1.0, cap=30.0, rand=lambda: 0.5) == expected


@pytest.fixture
def app(make_app):
    """The gateway with receipts off (they share the Cloud API's URL with the sends)."""
    app = make_app(WHATSAPP_READ_RECEIPTS="false", WHATSAPP_TYPING_INDICATOR="false")
    app.slept = []  # the backoff the outbox would have waited, instead of waiting
    app.extensions["handler"].outbox.sleep = app.slept.append
    return app


def answer_of(app, wa_id="34600000001"):
    store = app.extensions["store"]
    session = store.sessions.find_by_wa_id(wa_id)
    return store.messages.list(session.conversation_id, 10)[-1]


def test_a_throttled_send_that_succeeds_on_retry_is_sent_once(app, requests_mock):
    requests_mock.post(cloud.send_url, [
        {"status_code": 429, "headers": {"Retry-After": "3"},
         "json": graph_error(130429, "(#130429) Rate limit hit")},
        {"status_code": 200, "json": {"messages": [{"id": "wamid.ok"}]}}])
    assert post(app.test_client(), cloud, cloud.text("hello")).status_code == 200
    assert len(sends(requests_mock)) == 2  # refused, then accepted: one message arrives
    assert app.slept == [3.0]
    answer = answer_of(app)
    assert (answer.send_state, answer.provider_message_ids, answer.attempts,
            answer.error_kind) == ("sent", ["wamid.ok"], 2, None)


def test_retries_are_bounded(make_app, requests_mock):
    app = make_app(WHATSAPP_SEND_ATTEMPTS="3", WHATSAPP_RETRY_BASE_SECONDS="0")
    requests_mock.post(cloud.send_url, status_code=429,
                       json=graph_error(130429, "(#130429) Rate limit hit"))
    post(app.test_client(), cloud, cloud.text("hello"))
    answer = answer_of(app)
    assert len(sends(requests_mock)) == 3
    assert (answer.send_state, answer.error_kind, answer.error_code, answer.attempts) == (
        "failed", "throttled", "130429", 3)
    assert "Rate limit hit" in answer.error_message


def test_a_send_that_may_have_been_accepted_is_not_repeated(app, requests_mock):
    requests_mock.post(cloud.send_url, exc=requests.ReadTimeout("read timed out"))
    post(app.test_client(), cloud, cloud.text("hello"))
    answer = answer_of(app)
    assert len(sends(requests_mock)) == 1
    assert (answer.send_state, answer.error_kind, answer.error_code, answer.attempts) == (
        "failed", "transient", "timeout", 1)


@pytest.mark.parametrize("case", [cloud, twilio, generic], ids=lambda c: c.name)
def test_a_connection_that_never_opened_is_retried(case, app, requests_mock):
    ok = {"cloud_api": {"messages": [{"id": "w"}]}, "twilio": {"sid": "SM1"},
          "generic": {"message_uuid": "u"}}[case.name]
    requests_mock.post(case.send_url, [{"exc": refused_connection()},
                                       {"status_code": 200, "json": ok}])
    post(app.test_client(), case, case.text("hello"))
    assert (answer_of(app).send_state, len(sends(requests_mock))) == ("sent", 2)


@pytest.mark.parametrize("case, status, body, kind, retryable, code",
                         [r for r in REFUSALS if not r[4]],
                         ids=[f"{r[0].name}-{r[5]}" for r in REFUSALS if not r[4]])
def test_a_refused_answer_is_stored_with_kind_code_message_and_attempts(
        app, requests_mock, case, status, body, kind, retryable, code):
    requests_mock.post(case.send_url, status_code=status, json=body)
    post(app.test_client(), case, case.text("hello"))
    answer = answer_of(app)
    assert (answer.send_state, answer.error_kind, answer.error_code, answer.attempts) == (
        "failed", kind, code, 1)
    assert answer.error_message and len(sends(requests_mock)) == 1


@pytest.mark.parametrize("case", [cloud, generic], ids=lambda c: c.name)
def test_a_reply_past_24_hours_is_not_sent_nor_asked_of_the_bot(case, make_app, provider):
    app = make_app()  # receipts on: no "typing..." for an answer that will not be sent
    app.extensions["handler"].chat.bot = bot = Bot()
    late = case.sent_at(case.text("hello"), datetime.now(UTC) - timedelta(hours=25))
    assert post(app.test_client(), case, late).status_code == 200
    answer = answer_of(app)
    assert (answer.kind, answer.send_state, answer.error_kind) == (
        "skipped", "failed", "window_closed")
    assert (sends(provider), receipts(provider), bot.calls) == ([], [], [])


def test_a_late_message_inside_the_window_is_answered(app, provider):
    recent = cloud.sent_at(cloud.text("hello"), datetime.now(UTC) - timedelta(hours=23))
    post(app.test_client(), cloud, recent)
    assert answer_of(app).send_state == "sent"


def test_the_message_is_marked_read_with_typing_while_the_bot_answers(make_app, provider):
    """Reads, and refreshes "typing..." (every 50 ms here, about 20 s in production)."""
    app = make_app(WHATSAPP_TYPING_REFRESH_SECONDS="0.05")
    app.extensions["handler"].chat.bot = slow = Bot()
    slow.release.clear()
    post(app.test_client(), cloud, cloud.text("hello", message_id="wamid.in"), wait=False)
    assert slow.entered.wait(5)
    time.sleep(0.3)
    slow.release.set()
    app.extensions["dispatcher"].wait_idle()
    marks = receipts(provider)
    assert len(marks) >= 3  # refreshed while the bot was slow
    assert marks[0].json() == {"messaging_product": "whatsapp", "status": "read",
                               "message_id": "wamid.in", "typing_indicator": {"type": "text"}}
    assert len(sends(provider)) == 1
    assert provider.request_history[-1] == sends(provider)[0]  # no "typing..." after it


def test_read_receipts_and_typing_can_be_turned_off(make_app, provider):
    app = make_app(WHATSAPP_READ_RECEIPTS="false", WHATSAPP_TYPING_INDICATOR="false")
    post(app.test_client(), cloud, cloud.text("hello"))
    assert (len(receipts(provider)), len(sends(provider))) == (0, 1)


def test_read_receipts_without_typing(make_app, provider):
    app = make_app(WHATSAPP_TYPING_INDICATOR="false")
    post(app.test_client(), cloud, cloud.text("hello", message_id="wamid.in"))
    [mark] = receipts(provider)
    assert mark.json() == {"messaging_product": "whatsapp", "status": "read",
                           "message_id": "wamid.in"}


@pytest.mark.parametrize("instant", [True, False], ids=["offline bot", "bot taking time"])
def test_a_slow_read_receipt_is_not_overtaken_by_the_answer(make_app, requests_mock, instant):
    """A receipt landing after the answer would show the person a bot still typing. The
    offline bot's receipt goes first from the answering thread, an LLM's beside it."""
    done = []

    def slow_mark(message_id, business_number, typing):
        time.sleep(0.2)
        done.append(("read", message_id))
        return SendResult(True)

    def respond(request, context):
        done.append(("answer", request.json()["text"]["body"]))
        return {"messages": [{"id": "wamid.ok"}]}

    requests_mock.post(cloud.send_url, json=respond)
    app = make_app()
    app.extensions["handler"].outbox.clients["cloud_api"].mark_read = slow_mark
    app.extensions["handler"].chat.bot.instant = instant
    post(app.test_client(), cloud, cloud.text("hello", message_id="wamid.in"))
    assert [what for what, _ in done] == ["read", "answer"]


def test_a_failing_read_receipt_never_blocks_the_answer_and_is_logged(make_app, requests_mock,
                                                                      caplog):
    app = make_app()

    def respond(request, context):
        if "typing_indicator" in request.text:
            context.status_code = 500
            return graph_error(1, "An unknown error occurred")
        return {"messages": [{"id": "wamid.ok"}]}

    requests_mock.post(cloud.send_url, json=respond)
    post(app.test_client(), cloud, cloud.text("hello", message_id="wamid.in"))
    assert answer_of(app).send_state == "sent"
    [warning] = [r.getMessage() for r in caplog.records if "read receipt" in r.getMessage()]
    assert "message_id=wamid.in kind=transient error_code=1 http=500" in warning


@pytest.mark.parametrize("case", [twilio, generic], ids=lambda c: c.name)
def test_other_providers_get_no_read_receipts(case, make_app, provider):
    app = make_app()
    post(app.test_client(), case, case.text("hello"))
    assert len(provider.request_history) == 1


def test_rejected_credentials_flip_readyz_for_every_worker_until_a_send_succeeds(
        app, make_app, requests_mock):
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    requests_mock.post(cloud.send_url, status_code=401,
                       json=graph_error(190, "Error validating access token"))
    post(client, cloud, cloud.text("hello", message_id="w1"))
    other_worker = make_app().test_client()  # same store, another process in production
    for ready in (client.get("/readyz"), other_worker.get("/readyz")):
        assert ready.status_code == 503
        assert ready.json["providers"]["cloud_api"] == "auth_failed"
        assert ready.json["errors"] == {"cloud_api": {"code": "190"}}
    requests_mock.post(cloud.send_url, json={"messages": [{"id": "wamid.ok"}]})
    post(client, cloud, cloud.text("again", message_id="w2"))
    assert other_worker.get("/readyz").status_code == 200


def test_readyz_reports_each_provider_and_the_store(make_app, tmp_path):
    client = make_app(WHATSAPP_PROVIDER="twilio", WHATSAPP_ACCOUNT_ID="").test_client()
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (200, {
        "status": "ready", "store": "ok", "providers": {"twilio": "not_configured"}})


def test_readyz_is_503_when_the_store_cannot_be_opened(make_app, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    response = make_app(GATEWAY_DB_PATH=str(blocker / "x.sqlite3")).test_client().get("/readyz")
    assert (response.status_code, response.json["store"]) == (503, "down")


@pytest.mark.parametrize("case, kind, code, title", [
    (cloud, "window_closed", "131047", "Re-engagement message"),
    (twilio, "window_closed", "63016", "Failed to send freeform message because you are "
                                       "outside the allowed window."),
    (generic, "undeliverable", "1050", "Number barred")], ids=lambda v: getattr(v, "name", v))
def test_failure_callbacks_map_into_the_same_kinds(app, provider, case, kind, code, title):
    client = app.test_client()
    post(client, case, case.text("hello"))
    sent_id = answer_of(app).provider_message_ids[0]
    callback = case.payload("status_failed")
    if case.name == "cloud_api":
        callback["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent_id
    elif case.name == "twilio":
        callback["MessageSid"] = sent_id
    else:
        callback["message_uuid"] = sent_id
    post(client, case, callback)
    answer = answer_of(app)
    assert (answer.delivery_status, answer.delivery_error_kind, answer.delivery_error_code,
            answer.delivery_error_title) == ("failed", kind, code, title)


def test_operators_see_why_an_answer_failed(app, requests_mock):
    requests_mock.post(cloud.send_url, status_code=400,
                       json=graph_error(131026, "Message Undeliverable."))
    client = app.test_client()
    post(client, cloud, cloud.text("hello"))
    token = issue_token(SECRET, "qa", timedelta(minutes=5))
    [session] = client.get("/api/v1/whatsapp/sessions", headers=bearer(token)).json["items"]
    messages = client.get(f"/api/v1/conversations/{session['conversation_id']}/messages",
                          headers=bearer(token)).json["items"]
    answer = messages[-1]
    assert {k: answer[k] for k in ("send_state", "error_kind", "error_code", "error_message",
                                   "attempts")} == {
        "send_state": "failed", "error_kind": "undeliverable", "error_code": "131026",
        "error_message": "Message Undeliverable.", "attempts": 1}


def test_parallel_workers_never_double_send_a_retried_part(app, requests_mock):
    requests_mock.post(cloud.send_url, [
        {"status_code": 503, "json": graph_error(2, "Service temporarily unavailable")},
        {"status_code": 200, "json": {"messages": [{"id": "wamid.ok"}]}},
        {"status_code": 200, "json": {"messages": [{"id": "wamid.twice"}]}}])
    post(app.test_client(), cloud, cloud.text("hello"))
    store, handler = app.extensions["store"], app.extensions["handler"]
    question = store.messages.list(answer_of(app).conversation_id, 1)[0]
    threads = [threading.Thread(target=handler.process, args=(question,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answer_of(app).provider_message_ids == ["wamid.ok"]


def test_the_log_tells_an_operator_what_happened_to_a_message(app, provider, caplog):
    caplog.set_level("INFO")
    post(app.test_client(), cloud, cloud.text("When are you open?", message_id="wamid.in"))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("app.services")]
    conversation = answer_of(app).conversation_id
    story = [next(i for i, line in enumerate(lines) if line.startswith(start) and needle in line)
             for start, needle in [("inbound ", "message_id=wamid.in"),
                                   ("answered ", f"conversation={conversation} bot_ms="),
                                   ("reply ", "in_reply_to=wamid.in")]]
    assert story == sorted(story)
    assert re.search(r"attempts=1 latency_ms=\d+ ids=wamid\.out\d", lines[story[-1]])
