"""The operator page: in process for its rules, and in a real headless Chromium for the whole
handoff (skipped, saying why, where no browser is installed)."""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import timedelta

import pytest
import requests

from app.auth import issue_token
from tests.cases import CloudApiCase, post
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn, provider_env

SECRET = "jwt-secret-for-tests-0123456789abcdef"
cloud = CloudApiCase()


def token(subject: str = "laura") -> str:
    return issue_token(SECRET, subject, timedelta(minutes=30))


def signed_in(client):
    assert client.post("/console/login", data={"token": token()}).status_code == 302
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def test_the_page_asks_for_a_token_first(client):
    response = client.get("/console")
    assert (response.status_code, response.headers["Location"]) == (302, "/console/login")
    refused = client.post("/console/login", data={"token": "not-a-token"},
                          follow_redirects=True)
    assert "Token no válido" in refused.text
    assert client.get("/console").status_code == 302


def test_the_cookie_is_kept_from_scripts_and_other_sites(client):
    cookie = client.post("/console/login", data={"token": token()}).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie


def test_a_form_from_elsewhere_is_refused(client, provider):
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    signed_in(client)
    page = client.get("/console").text
    link = re.search(r'href="(/console/conversations/[^"]+)"', page).group(1)
    forged = client.post(f"{link}/handoff", data={"action": "pause", "csrf": "0" * 32})
    assert forged.status_code == 403
    ok = client.post(f"{link}/handoff", data={"action": "pause",
                                              "csrf": csrf_of(client.get(link).text)})
    assert ok.status_code == 302 and "En pausa" in client.get(link).text


def test_what_a_customer_wrote_is_shown_as_text(client, provider):
    post(client, cloud, cloud.text("<script>alert(1)</script>", message_id="in-1"))
    signed_in(client)
    link = re.search(r'href="(/console/conversations/[^"]+)"',
                     client.get("/console").text).group(1)
    page = client.get(link).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_failed_answer_comes_first_with_its_reason(client, requests_mock):
    requests_mock.post(cloud.send_url, status_code=400,
                       json={"error": {"code": 131026, "message": "Message undeliverable"}})
    post(client, cloud, cloud.text("hola", wa_id="34600000001", message_id="in-1"))
    requests_mock.post(cloud.send_url, json={"messages": [{"id": "wamid.ok"}]})
    post(client, cloud, cloud.text("hola", wa_id="34600000002", message_id="in-2"))
    signed_in(client)
    page = client.get("/console").text
    waiting = page.split('id="waiting"')[1].split('id="recent"')[0]
    assert "34600000001" in waiting and "34600000002" not in waiting
    assert "Una respuesta no llegó" in waiting
    link = re.search(r'data-wa-id="34600000001">\s*<td><a href="([^"]+)"', page).group(1)
    assert "no puede entregarlo a este número" in client.get(link).text


def chromium() -> str | None:
    """The system's Chromium, if any (CHROMIUM_PATH names another)."""
    return os.environ.get("CHROMIUM_PATH") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
        None)


@pytest.fixture(scope="module")
def browser():
    path = chromium()
    if path is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; `make test` "
                    "installs it where it may): the console's browser test is skipped")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.mark.e2e
def test_handoff_through_the_page_in_a_real_browser(browser, tmp_path):
    with FakeProvider() as fake:
        server = Gunicorn(provider_env(fake.url, str(tmp_path / "gateway.sqlite3"),
                                       JWT_SECRET=SECRET, WHATSAPP_READ_RECEIPTS="false")
                          ).start()
        try:
            _handoff_in_the_browser(browser, server, fake)
        finally:
            print(server.stop())


def submit(page, selector: str) -> None:
    """Click a form's button and wait for the page it leads to: reading or reloading the page
    while it is still navigating reads the old one, or fails."""
    with page.expect_navigation():
        page.click(selector)


def _handoff_in_the_browser(browser, server: Gunicorn, fake: FakeProvider) -> None:
    wa_id = "34630000001"

    def customer(text: str, message_id: str) -> None:
        url = f"{server.url}/api/v1/whatsapp/webhook"
        body = cloud.encode(cloud.text(text, wa_id=wa_id, message_id=message_id))
        assert requests.post(url, data=body, headers=cloud.headers(body, url),
                             timeout=10).status_code == 200

    customer("quiero hablar con una persona", "web-1")
    fake.wait_for(1, to=wa_id)

    page = browser.new_page()
    page.goto(f"{server.url}/console")
    page.fill("#token", token())
    submit(page, "button[type=submit]")
    waiting = page.locator("#waiting")
    assert "Pide hablar con una persona" in waiting.inner_text()
    with page.expect_navigation():
        waiting.get_by_role("link").first.click()
    assert "El bot responde" in page.locator("#state").inner_text()

    submit(page, "#switch")  # pause
    assert "En pausa: laura" in page.locator("#state").inner_text()
    customer("¿sigue ahí alguien?", "web-2")
    deadline = time.monotonic() + 15  # until the worker has taken it (held, or answered)
    while time.monotonic() < deadline and requests.get(
            f"{server.url}/api/v1/messages/web-2", timeout=5,
            headers={"Authorization": f"Bearer {token()}"}).json()["inbound"]["status"] == (
                "queued"):
        time.sleep(0.05)
    assert len(fake.wait_for(1, to=wa_id, timeout=0)) == 1  # the bot kept quiet

    page.fill("#text", "Hola, soy Laura. ¿En qué te ayudo?")
    submit(page, "#send")
    sent = fake.wait_for(2, to=wa_id)
    assert [s["text"] for s in sent] [1:] == ["Hola, soy Laura. ¿En qué te ayudo?"]
    page.reload()
    operator = page.locator("li.operator").last
    assert "Hola, soy Laura" in operator.inner_text() and "✓" in operator.inner_text()
    assert "retenido" in page.locator("li.user").last.inner_text()

    submit(page, "#switch")  # resume
    assert "El bot responde" in page.locator("#state").inner_text()
    customer("¿hacéis envíos a Portugal?", "web-3")
    assert len(fake.wait_for(3, to=wa_id)) == 3
    time.sleep(0.3)
    assert len(fake.wait_for(3, to=wa_id, timeout=0)) == 3  # once, not twice
    page.close()
