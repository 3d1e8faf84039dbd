"""QA's replay tool: a stored payload, posted now, is answered like a fresh message."""

from __future__ import annotations

import pytest

from tests.cases import CASES, PAYLOADS, WEBHOOK_URL, sends
from tests.replay import DEFAULT_URL, main, prepare


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request):
    return request.param


def replay(client, case, **options):
    body, headers = prepare(PAYLOADS / case.name / "text.json", WEBHOOK_URL, case.secret(),
                            **options)
    response = client.post(WEBHOOK_URL, data=body, headers=headers)
    client.application.extensions["dispatcher"].wait_idle()
    return response


def test_each_replay_is_a_new_message_answered_inside_the_window(app, client, provider, case):
    assert [replay(client, case).status_code for _ in range(2)] == [200, 200]
    assert len(sends(provider)) == 2  # stored timestamps are old: a closed window sends none


def test_a_same_id_replay_is_a_provider_retry(client, provider, case):
    replay(client, case, same_id=True)
    assert replay(client, case, same_id=True).status_code == 200
    assert len(sends(provider)) == 1


def test_the_question_can_be_changed(client, provider, case):
    replay(client, case, text="When are you open?")
    [sent] = sends(provider)
    assert "20:30" in case.sent_text(sent)[1]


def test_the_command_posts_signed_and_reports(requests_mock, capsys):
    requests_mock.post(DEFAULT_URL, status_code=200, text='{"status": "accepted", "events": 1}')
    assert main([str(PAYLOADS / "cloud_api" / "text.json"), "--secret", "s3cret"]) == 0
    assert requests_mock.last_request.headers["X-Hub-Signature-256"].startswith("sha256=")
    assert capsys.readouterr().out.startswith('200 {"status": "accepted"')


def test_the_command_fails_on_a_refusal(requests_mock):
    requests_mock.post(DEFAULT_URL, status_code=403, json={"error": {"code": "signature_invalid"}})
    assert main([str(PAYLOADS / "generic" / "text.json"), "--secret", "wrong"]) == 1


def test_a_payload_outside_the_dialect_folders_is_refused(tmp_path):
    stray = tmp_path / "text.json"
    stray.write_text("{}")
    with pytest.raises(SystemExit) as exit_:
        main([str(stray)])
    assert exit_.value.code == 2
