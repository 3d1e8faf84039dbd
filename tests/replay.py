"""`python -m tests.replay PAYLOAD`: post a stored payload to a running gateway, as its provider.

The payload is sent now (a stored timestamp from last year would find the 24-hour window closed,
and the answer would not be sent), under fresh message ids (each replay is a new message; with
`--same-id` it is a provider's retry, which the gateway must ignore), and signed the provider's
way with `--secret` (`WHATSAPP_APP_SECRET`, or `WHATSAPP_TOKEN` for Twilio) when one is given.
The dialect is the payload's folder: `tests/payloads/<dialect>/<name>.json`.
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests

from tests.cases import BY_NAME

DEFAULT_URL = "http://127.0.0.1:8000/api/v1/whatsapp/webhook"


def prepare(path: Path, url: str = DEFAULT_URL, secret: str | None = None,
            text: str | None = None, same_id: bool = False) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers the provider would post for the payload at `path`."""
    case = BY_NAME[path.parent.name]
    payload = case.sent_at(json.loads(path.read_text(encoding="utf-8")), datetime.now(UTC))
    if not same_id:
        payload = case.renamed(payload, f".replay-{uuid.uuid4().hex[:8]}")
    if text is not None:
        payload = case.with_text(payload, text)
    body = case.encode(payload)
    headers = {"Content-Type": case.content_type}
    if secret:
        headers[case.signature_header] = case.signature(body, secret, url)
    return body, headers


def main(argv: list[str] | None = None) -> int:
    """Post once; print the gateway's answer; exit 0 on a 2xx."""
    parser = argparse.ArgumentParser(prog="python -m tests.replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("payload", type=Path, help="e.g. tests/payloads/cloud_api/text.json")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the webhook (default {DEFAULT_URL})")
    parser.add_argument("--secret", help="sign with this secret, as the provider does")
    parser.add_argument("--text", help="what the (first) text message says")
    parser.add_argument("--same-id", action="store_true",
                        help="keep the stored message ids: replay a provider's retry")
    args = parser.parse_args(argv)
    if args.payload.parent.name not in BY_NAME:
        parser.error(f"{args.payload}: its folder must be one of {', '.join(BY_NAME)}")
    body, headers = prepare(args.payload, args.url, args.secret, args.text, args.same_id)
    response = requests.post(args.url, data=body, headers=headers, timeout=(3.05, 10))
    print(response.status_code, response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
