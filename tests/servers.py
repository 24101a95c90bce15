"""Servers the tests start for real: a free port on 127.0.0.1, and `aidmatch ui` answering GraphQL."""

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def ui_graphql(command: Sequence[str], env: Mapping[str, str], log: Path) -> Iterator[str]:
    """`command` (an `aidmatch ui …`) run on a free port, its output in `log`: the UI's GraphQL address once
    the webserver answers — the test fails with the log's end if it has not within two minutes or has
    exited — and the webserver stopped after (`aidmatch ui` replaces itself with it)."""
    port = free_port()
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"the UI did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.terminate()
        server.wait(timeout=30)
