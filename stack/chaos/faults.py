"""The faults the chaos proxy can put between Sextant and a backend, and the answers a faulty backend gives.

Shared by `make chaos` (stack/chaos/proxy.py in front of the real stack) and the failure-matrix tests
(the same proxy with no backend behind it), so a fault is written once.
"""

from __future__ import annotations

import json
from enum import StrEnum


class Fault(StrEnum):
    """What the proxy does with each request while the fault is set."""

    NONE = "none"  # pass the request to the backend and its answer back, unchanged
    LATENCY = "latency"  # wait `delay_s` first, then pass through
    ERROR = "5xx"  # answer 503 with the backend's own JSON error, without asking it
    HTML = "html"  # answer 200 with an HTML sign-in page, as a misrouted proxy would
    RESET = "reset"  # pass the request on, send back half the answer, then reset the connection
    MALFORMED = "malformed"  # pass the request on, send back the answer with its JSON cut in half
    TRICKLE = "trickle"  # pass the request on, send the answer back a few bytes at a time
    HANG = "hang"  # read the request and never answer


INJECTED_503 = "service unavailable (HTTP 503 injected by the chaos proxy)"

SIGN_IN_PAGE = (
    b"<!doctype html><html><head><title>Sign in</title></head><body><h1>Sign in</h1>"
    b'<form method="post" action="/login"><input name="user"><input name="password" type="password">'
    b"<button>Sign in</button></form></body></html>"
)


def error_body(backend: str) -> bytes:
    """A 503 answer body in the backend's own error format, so its client reads it as it would a real one."""
    if backend == "prometheus":
        answer: object = {"status": "error", "errorType": "unavailable", "error": INJECTED_503}
    elif backend == "opensearch":
        cause = {"type": "cluster_block_exception", "reason": INJECTED_503}
        answer = {"error": {"root_cause": [cause], **cause}, "status": 503}
    elif backend == "jaeger":
        answer = {
            "data": None,
            "total": 0,
            "limit": 0,
            "offset": 0,
            "errors": [{"code": 503, "msg": INJECTED_503}],
        }
    elif backend == "alertmanager":
        answer = INJECTED_503  # Alertmanager's v2 API answers an error as a bare JSON string
    else:
        raise ValueError(f"unknown backend {backend!r}")
    return json.dumps(answer).encode()
