"""Small helpers the tests share."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, TypeVar

import pytest

from .client import MatrixError

T = TypeVar("T")

SHIM = "matrix_policy_gateway_shim"
ANTISPAM = "synapse_http_antispam"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def refused(call: Callable[..., Any], *args: Any, **kwargs: Any) -> MatrixError:
    """The error a client gets; fails the test if the call succeeds."""
    with pytest.raises(MatrixError) as error:
        call(*args, **kwargs)
    return error.value


def eventually(probe: Callable[[], T], what: str, timeout: float = 30, interval: float = 0.2) -> T:
    """The first truthy result of ``probe``; fails with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except MatrixError as error:
            last = error
        if last and not isinstance(last, MatrixError):
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last})")


def homeserver_with(world: Any, via: str) -> Any:
    """The homeserver whose spam checker is ``via``: A runs our module, B synapse-http-antispam
    (skipped where SYNAPSE_PYTHON's environment does not have it)."""
    if via == SHIM:
        return world.hs_a
    if not world.installation.has_antispam:
        pytest.skip("synapse_http_antispam is not installed in SYNAPSE_PYTHON's environment")
    return world.hs_b


def seen(error: MatrixError) -> str:
    return f"{error.status} {error.errcode}"
