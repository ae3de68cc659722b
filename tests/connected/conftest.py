"""Fixtures of the connected tests: systems registered through the service,
events recorded through the outbox and dispatched, a client for the internal
API, and the reference receiver (examples/receiver.py) as a real process."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction

from connected.services.dispatch import outbox_dispatch
from connected.services.outbox import OutboxItem, outbox_record_many
from connected.services.systems import system_register

ROOT = Path(__file__).resolve().parents[2]
RECEIVER = ROOT / "examples" / "receiver.py"


@pytest.fixture
def register(db):
    """register(name, events=[...], url="", ...) -> (system, credentials)."""

    def _register(name="warehouse", *, events=("conversation.deleted",), **kwargs):
        return system_register(name=name, events=list(events), **kwargs)

    return _register


@pytest.fixture
def record(db):
    """record(*built events, origin=None): written through the outbox in one
    transaction and dispatched, as after a commit. Returns nothing."""

    def _record(*built: dict, origin: int | None = None, dispatch: bool = True):
        with transaction.atomic():
            outbox_record_many(events=[OutboxItem(**e, origin_system_id=origin) for e in built])
        if dispatch:
            outbox_dispatch()

    return _record


def record_committed(*built: dict) -> None:
    """As `record`, for transaction=True tests (no fixture needed)."""
    with transaction.atomic():
        outbox_record_many(events=[OutboxItem(**e) for e in built])
    outbox_dispatch()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReceiverProcess:
    """examples/receiver.py in its own process on 127.0.0.1."""

    def __init__(self, tmp_path: Path, secret: str, *, portal: str = "", key: str = ""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.log = tmp_path / f"received-{self.port}.jsonl"
        self.secret, self.portal, self.key = secret, portal, key
        self.process: subprocess.Popen | None = None

    def start(self) -> "ReceiverProcess":
        args = [sys.executable, str(RECEIVER), "--port", str(self.port), "--secret", self.secret]
        args += ["--log", str(self.log)]
        if self.portal:
            args += ["--portal", self.portal, "--key", self.key]
        self.process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the receiver did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)
        self.process = None

    def received(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture
def receiver_for(tmp_path):
    """receiver_for(secret, portal=..., key=...) -> a started ReceiverProcess,
    stopped at the end of the test."""
    started: list[ReceiverProcess] = []

    def _start(secret: str, **kwargs) -> ReceiverProcess:
        receiver = ReceiverProcess(tmp_path, secret, **kwargs).start()
        started.append(receiver)
        return receiver

    yield _start
    for receiver in started:
        receiver.stop()


class Api:
    """The internal API with a bearer key."""

    def __init__(self, client):
        self.client = client

    def _headers(self, key):
        return {"Authorization": f"Bearer {key}"} if key is not None else {}

    def get(self, path: str, *, key: str | None, **params):
        return self.client.get(f"/api/internal/{path}", params, headers=self._headers(key))

    def post(self, path: str, payload=None, *, key: str | None):
        return self.client.post(
            f"/api/internal/{path}",
            json.dumps(payload) if payload is not None else "",
            content_type="application/json",
            headers=self._headers(key),
        )


@pytest.fixture
def api(client, db):
    return Api(client)
