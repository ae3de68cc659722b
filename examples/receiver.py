"""A reference receiver of the portal's webhooks (docs/connected-systems.md):
a standalone WSGI app on the standard library and `standardwebhooks` only.

    python examples/receiver.py --port 8900 --secret whsec_... \
        [--log received.jsonl] [--portal https://portal.example --key csk_...]

For each POST it
1. verifies the signature over the raw body (401 if no signature matches,
   400 for missing headers or a timestamp more than 5 minutes off: replays);
2. answers 200 at once to a `webhook-id` it has already handled (the portal
   delivers at least once);
3. acts on the event: here it only records it, as a JSON line appended to
   --log; a real system erases its copy of the conversation, scores or
   feedback here;
4. for a `*.purged` event, when --portal and --key are given, confirms the
   erasure to the portal (POST /api/internal/erasures/<id>/confirm); if the
   portal cannot be reached it answers 503, so the portal sends the event
   again and the confirmation is retried.
Only then does it remember the id, so a crash mid-way means a redelivery,
never a lost event.
"""

import argparse
import contextlib
import json
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1024 * 1024


class Receiver:
    def __init__(self, *, secret: str, log: Path | None, portal: str | None, key: str | None):
        self.webhook = Webhook(secret)
        self.log = log
        self.portal = portal.rstrip("/") if portal else None
        self.key = key
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        if log and log.exists():  # a restart still knows what it handled
            for line in log.read_text().splitlines():
                if line.strip():
                    self.seen.add(json.loads(line)["id"])

    def confirm(self, event_id: str) -> bool:
        request = urllib.request.Request(  # noqa: S310 (the operator's own --portal URL)
            f"{self.portal}/api/internal/erasures/{event_id}/confirm",
            data=b"",
            method="POST",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def __call__(self, environ, start_response):
        def answer(status: str, message: str):
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps({"message": message}).encode()]

        if environ["REQUEST_METHOD"] != "POST":
            return answer("405 Method Not Allowed", "POST only")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return answer("400 Bad Request", "bad Content-Length")
        if length > MAX_BODY:
            return answer("413 Content Too Large", "body too large")
        body = environ["wsgi.input"].read(length)
        headers = {
            name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            payload = self.webhook.verify(body, headers)
        except WebhookVerificationError as exc:
            reason = str(exc)
            status = "401 Unauthorized" if "signature" in reason.lower() else "400 Bad Request"
            return answer(status, reason)
        except (ValueError, TypeError) as exc:  # a malformed signature or body
            return answer("400 Bad Request", f"malformed: {exc}")
        event_id = headers["webhook-id"]
        with self.lock:  # one event at a time: the dedupe check and the record agree
            if event_id in self.seen:
                return answer("200 OK", "duplicate")
            confirms = payload["type"].endswith(".purged") and self.portal and self.key
            if confirms and not self.confirm(event_id):
                return answer("503 Service Unavailable", "could not confirm; send again")
            if self.log:
                record = {
                    "id": event_id,
                    "type": payload["type"],
                    "timestamp": payload["timestamp"],
                    "data": payload["data"],
                    "signatures": len(headers["webhook-signature"].split()),
                    "received_at": datetime.now(UTC).isoformat(),
                }
                with self.log.open("a") as stream:
                    stream.write(json.dumps(record) + "\n")
            self.seen.add(event_id)
        return answer("200 OK", "received")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per request on stderr is noise in tests
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True, help="the system's whsec_ signing secret")
    parser.add_argument("--log", type=Path, help="append each event received as a JSON line")
    parser.add_argument("--portal", help="the portal's base URL, to confirm erasures")
    parser.add_argument("--key", help="the system's API key (scope 'erasures')")
    args = parser.parse_args(argv)
    app = Receiver(secret=args.secret, log=args.log, portal=args.portal, key=args.key)
    with make_server(args.host, args.port, app, handler_class=_QuietHandler) as server:
        print(f"receiving on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
