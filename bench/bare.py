"""The baseline: a bare Flask route that answers 200, served under the same gunicorn config."""

from flask import Flask

app = Flask(__name__)


@app.post("/api/v1/whatsapp/webhook")
def webhook():
    """Read the body and acknowledge, doing nothing else."""
    return "", 200


@app.get("/healthz")
def healthz():
    """What the benchmark polls before it starts."""
    return "ok", 200
