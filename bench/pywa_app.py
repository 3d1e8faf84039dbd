"""The library baseline: pywa verifying the signature, parsing the update and calling a
handler that stores nothing, under the same gunicorn config (bench/requirements.txt)."""

from flask import Flask
from pywa import WhatsApp

from bench.webhook import PATH, SECRET

app = Flask(__name__)
whatsapp = WhatsApp(phone_id="106540352242922", token="bench-token", server=app,
                    webhook_endpoint=PATH, verify_token="bench-verify", app_secret=SECRET,
                    validate_updates=True)


@whatsapp.on_message()
def received(client, message) -> None:
    """Take the message and do nothing with it."""


@app.get("/healthz")
def healthz():
    """What the benchmark polls before it starts."""
    return "ok", 200
