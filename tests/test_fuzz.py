"""Fuzzing the webhook: no input gets a 5xx but a deliberate 503, and a batch keeps its valid
items. Payloads are every stored one of every dialect, each mutated at one leaf (replaced by a
wrong value, or removed) or replaced whole, posted both signed (to reach the parsers) and as an
attacker would, on both stores.

CI runs a bounded number of examples (`FUZZ_EXAMPLES`, default 40 per test); `make fuzz` runs
thousands.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import requests_mock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cases import CASES, PAYLOADS, CloudApiCase

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_SEED"),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
PATH = "/api/v1/whatsapp/webhook"
STORED = [(case, path.stem) for case in CASES for path in sorted((PAYLOADS / case.name).glob(
    "*.json"))]

WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(categories=["L", "N", "P", "S", "Z", "Cc", "Cs"]), max_size=12),
    st.sampled_from(["\ud83d", "", " ", "../../admin/x?x=", "\n INFO forged", "9" * 40,
                     "2026-13-45T99:99:99Z", "whatsapp:", "+", "#", "a" * 5000]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
    st.just([[[[[]]]]]), st.just({"type": True, "title": 1}),
)


def leaves(value, path=()):
    """Every path to a value inside `value` (containers included, the root excepted)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(
        value, list) else ()
    for key, child in items:
        yield (*path, key)
        yield from leaves(child, (*path, key))


def mutated(payload, path, replacement, remove: bool):
    """`payload` with the value at `path` replaced, or removed."""
    copy = json.loads(json.dumps(payload))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if remove:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


def encode(case, payload) -> bytes:
    """The body `case`'s provider would post; form values may hold lone surrogates too."""
    if case.content_type != "application/x-www-form-urlencoded":
        return json.dumps(payload).encode()
    if not isinstance(payload, dict):
        return str(payload).encode("utf-8", "surrogatepass")
    return "&".join(
        f"{quote(str(k).encode('utf-8', 'surrogatepass'))}="
        f"{quote(str(v).encode('utf-8', 'surrogatepass'))}"
        for k, v in payload.items()).encode()


@pytest.fixture(params=["sqlite", "mongodb"])
def fuzz_app(request, make_app, provider):
    """The gateway on each store, signatures enforced; the mocked providers accept every send
    (a mutated payload may name another sender)."""
    provider.post(requests_mock.ANY, status_code=200, json={
        "messages": [{"id": "wamid.fuzz"}], "sid": "SMfuzz", "message_uuid": "fuzz"})
    if request.param == "mongodb":
        return make_app(MONGO_CLIENT=request.getfixturevalue("mongo_client"))
    return make_app()


def check(response) -> None:
    """No 5xx but a deliberate 503; every error in the one shape, small."""
    assert response.status_code < 500 or (
        response.status_code == 503 and response.json["error"]["code"] == "store_unavailable")
    if response.status_code >= 400:
        assert set(response.json["error"]) <= {"code", "message", "details"}
        assert len(response.data) < 4096


@FUZZ
@given(data=st.data())
def test_a_mutated_payload_never_gets_a_5xx(fuzz_app, data):
    case, name = data.draw(st.sampled_from(STORED), label="payload")
    payload = case.renamed(case.payload(name), f"-{uuid.uuid4().hex[:8]}")
    paths = list(leaves(payload))
    path = data.draw(st.sampled_from(paths), label="at") if paths else None
    if path is not None:
        payload = mutated(payload, path, data.draw(WRONG, label="value"),
                          remove=data.draw(st.booleans(), label="remove"))
    body = encode(case, payload)
    headers = {"Content-Type": case.content_type,
               case.signature_header: case.signature(body, case.secret(),
                                                     "http://localhost" + PATH)}
    client = fuzz_app.test_client()
    check(client.post(PATH, data=body, headers=headers))
    fuzz_app.extensions["dispatcher"].wait_idle()


@FUZZ
@given(body=st.one_of(st.binary(max_size=2048), st.text(max_size=512).map(str.encode),
                      st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                                   lambda inner: st.lists(inner) | st.dictionaries(
                                       st.text(), inner), max_leaves=30).map(
                                           lambda v: json.dumps(v).encode())),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                     "text/plain", "multipart/form-data", ""]),
       signed_as=st.sampled_from([None, *CASES]))
def test_any_body_never_gets_a_5xx(fuzz_app, body, content_type, signed_as):
    headers = {"Content-Type": content_type} if content_type else {}
    if signed_as is not None:
        try:
            headers[signed_as.signature_header] = signed_as.signature(
                body, signed_as.secret(), "http://localhost" + PATH)
        except UnicodeDecodeError:  # no form data: Twilio would never sign it
            headers[signed_as.signature_header] = "forged"
    check(fuzz_app.test_client().post(PATH, data=body, headers=headers))


@FUZZ
@given(data=st.data())
def test_a_batch_keeps_its_valid_messages(fuzz_app, data):
    case = CloudApiCase()
    payload = case.renamed(case.payload("several"), f"-{uuid.uuid4().hex[:8]}")
    value = payload["entry"][0]["changes"][0]["value"]
    spoiled = data.draw(st.integers(0, len(value["messages"]) - 1), label="spoiled")
    paths = [p for p in leaves(value["messages"][spoiled]) if p]
    value["messages"][spoiled] = mutated(value["messages"][spoiled],
                                         data.draw(st.sampled_from(paths), label="at"),
                                         data.draw(WRONG, label="value"), remove=False)
    body = encode(case, payload)
    response = fuzz_app.test_client().post(PATH, data=body, headers={
        "Content-Type": case.content_type,
        case.signature_header: case.signature(body, case.secret(), "")})
    check(response)
    fuzz_app.extensions["dispatcher"].wait_idle()
    store = fuzz_app.extensions["store"]
    stored = {m.provider_message_id for s in store.sessions.list_recent(100)
              for m in store.messages.list(s.conversation_id, 50, max(
                  0, store.messages.count(s.conversation_id) - 50))}  # the latest
    for index, message in enumerate(value["messages"]):
        if index != spoiled:
            assert message["id"] in stored, f"valid message {index} was not stored"


def test_the_payload_files_are_all_fuzzed():
    assert {case.name for case, _ in STORED} == {case.name for case in CASES}
    assert len(STORED) == sum(1 for _ in Path(PAYLOADS).glob("*/*.json"))
