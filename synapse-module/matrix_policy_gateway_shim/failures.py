"""Why a call to the gateway gave no usable answer. Each callback's failure policy decides
what Synapse gets instead."""

from __future__ import annotations

from typing import Optional


class GatewayFailure(Exception):
    """The gateway could not be asked, or its answer cannot be used."""


class Unreachable(GatewayFailure):
    """No connection, or the connection broke before the answer was complete."""


class TimedOut(GatewayFailure):
    """No complete answer within the callback's timeout."""


class UnexpectedReply(GatewayFailure):
    """An answer that is not what the gateway documents for this callback."""


class AnswerTooLarge(UnexpectedReply):
    """An answer longer than the shim reads (``client.MAX_ANSWER_BYTES``): left unread."""


class TooManyRoutes(UnexpectedReply):
    """A compact ``get_users_for_states`` answer naming more (receiver, update) pairs than the shim
    takes: a smaller batch names fewer."""

    def __init__(self, message: str, routes: int) -> None:
        super().__init__(message)
        self.routes = routes


class TooLarge(UnexpectedReply):
    """The gateway refused the call as larger than its ``max-body-size`` (413): asked again, it
    refuses it again. What a client sent (a createRoom body) or what a room holds (its state)
    decides that, not the gateway's health.

    ``within_limit``: the request was no larger than the ``max-body-size`` the gateway announced,
    so something else refused it (a proxy in front of the gateway with a smaller limit, or a limit
    lowered since Synapse started), and "too large for the policy check" would not be the whole truth."""

    def __init__(self, message: str, within_limit: bool = False) -> None:
        super().__init__(message)
        self.within_limit = within_limit


class UnsendableArguments(GatewayFailure):
    """Synapse passed something the shim cannot write as JSON (a shim bug to report)."""


class UnknownArguments(GatewayFailure):
    """Synapse called a callback with arguments the shim does not know (a newer Synapse that
    added one): the callback follows its failure policy rather than fail Synapse's request."""


BUSY = "M_LIMIT_EXCEEDED"
"""The errcode of the gateway's 503 for a request it has no room for now (the heap its requests'
bodies share is taken, or as many requests are in flight as its heap holds): unlike its fail-closed
503 (``M_UNKNOWN``), no verdict."""


class GatewayBusy(GatewayFailure):
    """The gateway's 503 ``M_LIMIT_EXCEEDED``: too many requests in flight to hold this one. Its state,
    as a timeout is: the callback follows its own failure policy."""


class PolicyFailed(GatewayFailure):
    """The gateway's own 503: a module on a fail-closed link failed. The gateway has decided
    to fail closed, so the shim fails closed too, whatever its own policy."""

    def __init__(self, errcode: str, error: Optional[str]) -> None:
        super().__init__(f"the gateway failed closed ({shown(errcode)}: {shown(error)})")
        self.errcode = errcode
        self.error = error


def shown(text: Optional[str]) -> str:
    """The gateway's text as a log shows it: quoted, every control, separator and bidirectional
    formatting character escaped (``repr`` escapes what is not printable), and cut to 200
    characters, so that an answer cannot forge or reorder a line of Synapse's log."""
    if text is None:
        return "None"
    written = repr(text[:200])
    return written if len(text) <= 200 else f"{written}... ({len(text)} characters)"


LONGEST_ERROR = 1000
"""The most characters of a refusal's message handed to Synapse, as the gateway cuts a remote service's."""
LONGEST_ERRCODE = 255
"""The most characters of an error code handed to Synapse, the gateway's own bound on one."""


def printable(text: str, most: int) -> str:
    """The gateway's text as Synapse may hand it to a client: Synapse logs a ``SynapseError``'s errcode
    and message as they are, so every character that is not printable (the controls, separators and
    bidirectional formatting :func:`shown` escapes, and a lone surrogate, which JSON's escapes carry
    and Synapse could not write to the client as UTF-8) becomes a space; the client reads the same
    text. Cut to ``most`` characters (``…`` marks the cut): Synapse logs it and sends it on whole."""
    written = "".join(c if c.isprintable() else " " for c in text[:most])
    return written if len(text) <= most else written + "\u2026"
