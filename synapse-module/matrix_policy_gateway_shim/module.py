"""The Synapse module: registers the callbacks the gateway has chains for, and forwards
each call as ``POST /v1/{category}/{callback}``."""

from __future__ import annotations

import collections
import inspect
import logging
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from twisted.internet import defer

from . import _synapse
from . import config as shim_config
from .answers import Call, UsersForStates, interpret
from .callbacks import ALL, BY_NAME, COMPANIONS, Callback, FailurePolicy, RAISE
from .client import MAX_ANSWER_BYTES, Discovery, GatewayClient
from .convert import to_json_bytes
from .failures import (AnswerTooLarge, GatewayFailure, PolicyFailed, TimedOut, TooLarge, TooManyRoutes,
                       UnknownArguments, UnsendableArguments, LONGEST_ERRCODE, LONGEST_ERROR, printable)

logger = logging.getLogger(__name__)

UNAVAILABLE = "The policy service is unavailable; try again later"
TOO_LARGE = "Too large for this server's policy check"
REFUSED_AS_TOO_LARGE = "Refused as too large before this server's policy check could read it"
"""What a client reads when a request no larger than the gateway's ``max_body_size`` is refused with 413
(a proxy in front of the gateway, or a limit lowered since Synapse started): no retry helps, but the
request is not too large for the policy check."""
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
"""The gateway's default ``max-body-size`` (1MB), for one that has not announced its own."""
BATCH_BYTES = 256 * 1024
"""The most JSON of a ``batched`` list sent in one request: a quarter of the gateway's default
``max-body-size`` (1MB), so that the request fits with room to spare."""

ANSWER_BYTES = MAX_ANSWER_BYTES // 4
"""The most a batch's answer should take. An answer is about ``ratio`` times its request: about
once, in the compact form the shim asks for (each update once, and each receiver with the index of
its set of them); about as many times as the update has receivers from a gateway older than the
compact form, which names each update once for each of its receivers (every receiver of an ALL
route gets every update). Batches are kept to ANSWER_BYTES / ``ratio``, as the last answer
measured it, well under the MAX_ANSWER_BYTES the shim reads at most."""


REREAD_INTERVAL = 60.0
"""Seconds between two readings of the gateway's ``max_body_size`` after a batch is refused as
too large: a gateway whose limit was lowered refuses many batches at once, and those must not
become as many discovery requests."""


def batch_bytes(max_body_size: Optional[int]) -> int:
    """The bound on a batch for a gateway that announces ``max_body_size``: a quarter of it, as
    BATCH_BYTES is of the default, so that the request fits with room to spare for the rest of
    its body; never more than BATCH_BYTES, which also keeps the answer small. BATCH_BYTES for a
    gateway that announces none (older than the announcement)."""
    return BATCH_BYTES if max_body_size is None else min(BATCH_BYTES, max(1, max_body_size // 4))


class PolicyGatewayModule:
    """``modules: [{module: matrix_policy_gateway_shim.PolicyGatewayModule, config: ...}]``.

    Discovery at startup is a blocking request with a short timeout (``startup.
    discovery_timeout``), made while Synapse builds its modules: callbacks are registered
    during ``__init__``, where Synapse expects them, and nothing is registered for a
    callback without modules. If the gateway cannot be asked, ``startup.if_unreachable``
    decides: ``register_all`` (the default) registers every callback of the enabled
    categories at once, keeps asking in the background, and from then on answers callbacks
    without modules locally; ``retry`` registers nothing until the gateway answers.
    """

    def __init__(
        self,
        config: Any,
        api: Any,
        *,
        synapse: Optional[_synapse.SynapseApi] = None,
        client: Optional[Any] = None,
        reactor: Optional[Any] = None,
    ) -> None:
        self._config: shim_config.ShimConfig = (
            config if isinstance(config, shim_config.ShimConfig) else shim_config.parse(config))
        self._api = api
        self._synapse = synapse if synapse is not None else _synapse.load(api)
        if reactor is None:
            from twisted.internet import reactor as global_reactor
            reactor = global_reactor
        self._reactor = reactor
        self._client = client if client is not None else GatewayClient(
            self._config.base_url,
            self._config.token,
            reactor=reactor,
            idle_connection_timeout=self._config.idle_connection_timeout,
            max_idle_connections=self._config.max_idle_connections,
            max_connections=self._config.max_connections,
            make_deferred_yieldable=self._synapse.make_deferred_yieldable,
        )
        self._chains: Optional[FrozenSet[str]] = None  # None: not known yet, so ask the gateway
        self._batch_bytes = BATCH_BYTES  # until the gateway announces its max-body-size
        self._max_body_size = DEFAULT_MAX_BODY_SIZE  # likewise
        self._bound_read_at: Optional[float] = None  # when a batch refused as too large last had it read again
        self._rereading: Optional[List["defer.Deferred[int]"]] = None  # calls waiting for the limit read again
        self._ratio = 1.0  # the last batched answer's bytes for each byte of its request
        self._routes_per_byte = 0.0  # and its (receiver, update) pairs for each byte of its request
        self._pending_notifications = 0
        self._failures = _QuietRepeats(reactor.seconds)
        self._retry_call: Optional[Any] = None
        self.registered: Dict[str, Tuple[str, ...]] = {}
        """Category to the callbacks registered with Synapse (and ``auth_checkers``)."""

        try:
            discovery = self._client.discover_blocking(self._config.discovery_timeout)
        except GatewayFailure as failure:
            self._startup_without_gateway(failure)
        else:
            self._use(discovery)

    @staticmethod
    def parse_config(config: Mapping[str, Any]) -> shim_config.ShimConfig:
        return shim_config.parse(config)

    # ---- startup

    def _use(self, discovery: Discovery) -> None:
        self._learn(discovery)
        self._register(discovery.callbacks, discovery.auth_checkers)
        logger.info("Policy gateway at %s has modules for %d callbacks", self._config.base_url,
                    len(discovery.callbacks))

    def _learn(self, discovery: Discovery) -> None:
        self._chains = discovery.callbacks
        self._learn_limit(discovery.max_body_size)

    def _learn_limit(self, max_body_size: Optional[int]) -> None:
        """The gateway's ``max_body_size`` as it announces it (None: not at all), and the batch bound of it."""
        self._batch_bytes = batch_bytes(max_body_size)
        self._max_body_size = max_body_size or DEFAULT_MAX_BODY_SIZE

    def _startup_without_gateway(self, failure: GatewayFailure) -> None:
        if self._config.if_unreachable == shim_config.REGISTER_ALL:
            logger.warning("Cannot ask the policy gateway which callbacks have modules (%s): registering every "
                           "callback, which follows its failure policy until the gateway answers", failure)
            self._register([c.name for c in ALL], self._config.fallback_auth_checkers)
        else:
            logger.warning("Cannot ask the policy gateway which callbacks have modules (%s): registering them "
                           "once it answers; until then no policy applies", failure)
        self._schedule_discovery()

    def _schedule_discovery(self) -> None:
        self._retry_call = self._reactor.callLater(
            self._config.retry_interval, self._synapse.run_in_background_process,
            "policy_gateway_discovery", self._discover_again)

    async def _discover_again(self) -> None:
        self._retry_call = None
        try:
            discovery = await self._client.discover(self._config.discovery_timeout)
        except GatewayFailure as failure:
            logger.warning("The policy gateway still does not answer (%s); asking again in %ss", failure,
                           self._config.retry_interval)
            self._schedule_discovery()
            return
        except defer.CancelledError:
            raise
        except Exception:  # a bug: logged whole, and the asking goes on, or nothing would ever be registered
            logger.exception("Asking the policy gateway for its callbacks failed unexpectedly; asking again in %ss",
                             self._config.retry_interval)
            self._schedule_discovery()
            return
        if self._config.if_unreachable == shim_config.REGISTER_ALL:  # everything is registered already
            self._learn(discovery)
            logger.info("The policy gateway answers: %d callbacks have modules, the others are answered here",
                        len(discovery.callbacks))
        else:  # retry: registering after startup is outside what Synapse documents
            logger.warning("The policy gateway answers: registering its callbacks after startup; auth checkers "
                           "and the background update controller may not take effect until Synapse restarts")
            self._use(discovery)

    def close(self) -> "defer.Deferred[None]":
        """Stops background discovery and closes idle connections (for tests; Synapse never
        unloads modules)."""
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        return self._client.close()

    # ---- registration

    def _register(self, names: Iterable[str], auth_checkers: Iterable[Tuple[str, Tuple[str, ...]]]) -> None:
        wanted = {name for name in names if name != "check_auth"}
        wanted |= {companion for name in wanted for companion in COMPANIONS.get(name, ())}
        by_category: Dict[str, Dict[str, Any]] = {}
        for callback in ALL:
            if callback.name in wanted and callback.category in self._config.categories:
                by_category.setdefault(callback.category, {})[callback.register_as] = self._synapse_callable(callback)
        checkers = dict.fromkeys(auth_checkers)
        if checkers and "password_auth_provider" in self._config.categories:
            check_auth = self._synapse_callable(BY_NAME["check_auth"])
            by_category.setdefault("password_auth_provider", {})["auth_checkers"] = {
                checker: check_auth for checker in checkers}
        skipped: List[str] = []
        for category, callbacks in by_category.items():
            skipped += self._register_category(category, callbacks)
        if skipped:
            # Expected on any Synapse older than the newest callbacks: one line, not one warning each.
            logger.info("This Synapse version could not register %d callbacks (too old for them): %s",
                        len(skipped), ", ".join(skipped))

    def _register_category(self, category: str, callbacks: Dict[str, Any]) -> List[str]:
        """Registers what this Synapse accepts of one category; returns what it could not
        register, as ``category.callback``."""
        method = getattr(self._api, f"register_{category}_callbacks", None)
        accepted = set() if method is None else _keyword_parameters(method)
        unknown = set() if accepted is None else set(callbacks) - accepted
        if category == "background_update_controller" and "on_update" not in set(callbacks) - unknown:
            unknown = set(callbacks)  # Synapse refuses the other two without on_update
        for name in unknown:
            del callbacks[name]
        if callbacks:
            method(**callbacks)
            self.registered[category] = tuple(sorted(callbacks))
            logger.info("Registered %s callbacks: %s", category, ", ".join(sorted(callbacks)))
        return [f"{category}.{_NAME_BY_KEYWORD.get(keyword, keyword)}" for keyword in sorted(unknown)]

    def _synapse_callable(self, callback: Callback) -> Callable[..., Any]:
        """A function with exactly the callback's parameters: Synapse counts them for
        check_username_for_spam and user_may_create_room to choose what to pass."""
        signature = inspect.Signature([
            inspect.Parameter(param.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=None if param.added_later else inspect.Parameter.empty)
            for param in callback.params])

        def arguments(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as mismatch:
                raise UnknownArguments(f"Synapse passed {callback.name} arguments this shim does not know"
                                       f" ({mismatch}); upgrade the shim") from None
            bound.apply_defaults()
            values = dict(bound.arguments)
            for param in callback.params:
                if param.materialise is not None:
                    values[param.name] = param.materialise(values[param.name])
            return values

        if callback.failure is FailurePolicy.NOTIFICATION:
            async def forward(*args: Any, **kwargs: Any) -> None:
                try:
                    values = arguments(args, kwargs)
                except UnknownArguments as failure:
                    self._failures.warning(f"{callback.name} {type(failure).__name__}", "Notification %s not sent: %s",
                                           callback.name, failure)
                    return
                self._notify(callback, values)
        elif callback.context_manager:
            def forward(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                return _UpdateIteration(self, callback, arguments(args, kwargs))
        else:
            async def forward(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                try:
                    values = arguments(args, kwargs)
                except UnknownArguments as failure:  # Synapse does not catch what a callback raises
                    return self._failed(callback, self._call(callback, {}), failure)
                return await self._decide(callback, values)

        forward.__signature__ = signature  # type: ignore[attr-defined]
        forward.__name__ = callback.name
        forward.__qualname__ = f"{type(self).__name__}.{callback.name}"
        return forward

    # ---- calls

    def _call(self, callback: Callback, args: Dict[str, Any]) -> Call:
        return Call(callback.name, args, self._synapse, self._failures)

    def _has_chain(self, name: str) -> bool:
        return self._chains is None or name in self._chains

    async def _decide(self, callback: Callback, args: Dict[str, Any]) -> Any:
        call = self._call(callback, args)
        if not self._has_chain(callback.name):
            return callback.result.abstain(call)
        sent = 0
        try:
            if callback.batched is not None:
                return await self._decide_in_batches(callback, call)
            body = await self._body(callback, args)
            sent = len(body)
            reply = await self._client.post(callback.path, body, self._config.timeout(callback.name))
            return await callback.result.confirm(interpret(reply.status, reply.body, callback.result, call), call)
        except TooLarge as refused:
            return self._failed(callback, call, self._sized(refused, sent))
        except GatewayFailure as failure:
            return self._failed(callback, call, failure)

    def _sized(self, refused: TooLarge, sent: int) -> TooLarge:
        """A 413 for a request of ``sent`` bytes, saying whether the request was within the gateway's
        announced ``max_body_size`` (so that the gateway's limit is not what refused it)."""
        if sent > self._max_body_size:
            return TooLarge(f"{refused}, for a request of {sent} bytes, over the gateway's max_body_size of "
                            f"{self._max_body_size}")
        return TooLarge(f"{refused}, for a request of only {sent} bytes, within the gateway's max_body_size of "
                        f"{self._max_body_size}: a proxy in front of the gateway refuses smaller requests, or the "
                        "limit was lowered since Synapse started", within_limit=True)

    def _bound(self) -> int:
        """The bound on a batch: the gateway's (:func:`batch_bytes`), and small enough that its
        answer, ``ratio`` times as large, stays under ANSWER_BYTES, and names at most half the
        (receiver, update) pairs an answer may (``UsersForStates.MOST_ROUTES``)."""
        bound = min(self._batch_bytes, max(1, int(ANSWER_BYTES / self._ratio)))
        if self._routes_per_byte > 0:
            bound = min(bound, max(1, int(UsersForStates.MOST_ROUTES / 2 / self._routes_per_byte)))
        return bound

    async def _decide_in_batches(self, callback: Callback, call: Call) -> Any:
        """Asks the gateway about each batch in turn (one, the whole call, when it is within the
        bound), all within the call's one timeout, and
        merges the answers. A batch that fails (or that the deadline leaves unasked) is left
        out, and logged: ``get_users_for_states`` about everyone online answers a sync of a
        user interested in ALL users, and Synapse looks that user up in the answer, so any
        batch's answer (the gateway names every receiver of ALL in each) spares that sync the
        500 that ``{}``, the answer of a failure, gives it. Only when every batch fails does
        the call fail as a whole.

        A batch refused with 413 (the gateway's ``max-body-size`` lowered since the shim read it)
        has the limit read again (:meth:`_bound_after_too_large`); under a smaller bound, that
        batch and the ones not yet sent are split again and sent, within the same timeout. So are
        they when an answer is too large to read (:meth:`_ratio_after_too_large_an_answer`) or names
        more (receiver, update) pairs than taken (:meth:`_routes_after_too_many`), and
        the ones not yet sent when an answer shows that the next would pass ANSWER_BYTES."""
        deadline = self._reactor.seconds() + self._config.timeout(callback.name)
        name = callback.batched
        assert name is not None
        bound = self._bound()  # one bound for the call, until the gateway shows that it needs a smaller one
        unsent = collections.deque(await self._batches(callback, call.args, bound))
        answers: List[Any] = []
        failures: List[GatewayFailure] = []

        async def split_again(*refused: Dict[str, Any]) -> "collections.deque[Tuple[Dict[str, Any], bytes]]":
            items = [item for batch in [*refused, *(later for later, _ in unsent)] for item in batch[name]]
            return collections.deque(await self._batches(callback, {**call.args, name: items}, bound))

        while unsent:
            batch, body = unsent.popleft()
            left = deadline - self._reactor.seconds()
            try:
                if left <= 0:
                    raise TimedOut(f"{callback.path}: no time left for this batch")
                try:
                    reply = await self._client.post(callback.path, body, left)
                    if reply.status == 413:
                        smaller = await self._bound_after_too_large(callback, bound, deadline)
                        if smaller < bound:
                            bound = smaller
                            unsent = await split_again(batch)
                            continue
                    answer = interpret(reply.status, reply.body, callback.result, self._call(callback, batch))
                except (AnswerTooLarge, TooManyRoutes) as too_much:
                    if isinstance(too_much, TooManyRoutes):
                        self._routes_after_too_many(callback, too_much.routes, len(body))
                    else:
                        self._ratio_after_too_large_an_answer(callback, len(body))
                    if len(batch[name]) == 1 or self._bound() >= bound:
                        raise  # a single update: nothing smaller to try
                    bound = self._bound()
                    unsent = await split_again(batch)
                    continue
                answers.append(answer)
                if batch[name]:
                    self._ratio = max(1.0, reply.size / len(body))
                    self._routes_per_byte = callback.result.count(answer) / len(body)
                if self._bound() < bound:
                    bound = self._bound()
                    unsent = await split_again()
            except GatewayFailure as failure:
                failures.append(failure)
        if not answers:
            return self._failed(callback, call, failures[0])
        if failures:
            self._failures.warning(f"{callback.name} {type(failures[0]).__name__} batches",
                                   "Policy check %s failed for %d of its %d batches (%s): answering with the "
                                   "others' answers", callback.name, len(failures), len(answers) + len(failures),
                                   failures[0])
        return callback.result.merge(answers)

    def _ratio_after_too_large_an_answer(self, callback: Callback, body_bytes: int) -> None:
        """An answer to ``body_bytes`` passed MAX_ANSWER_BYTES (a gateway older than the compact form,
        which names each update once for each receiver), so it was more than MAX_ANSWER_BYTES /
        ``body_bytes`` times its request: twice that, until an answer measures it."""
        self._ratio = max(self._ratio, 2 * MAX_ANSWER_BYTES / body_bytes)
        self._failures.warning(f"{callback.name} answer too large",
                               "The policy gateway's answer to a batch of %s passed %d bytes (it names each update "
                               "once for each of its receivers): sending batches of at most %d bytes",
                               callback.name, MAX_ANSWER_BYTES, self._bound())

    def _routes_after_too_many(self, callback: Callback, routes: int, body_bytes: int) -> None:
        """A compact answer to ``body_bytes`` named ``routes`` pairs, more than an answer may: the
        receivers of so many updates are served in batches of fewer, as an older gateway's full answers
        are in smaller batches, rather than not at all."""
        self._routes_per_byte = max(self._routes_per_byte, routes / body_bytes)
        self._failures.warning(f"{callback.name} too many routes",
                               "The policy gateway's answer to a batch of %s named %d (receiver, update) pairs, more "
                               "than the %d taken: sending batches of at most %d bytes", callback.name, routes,
                               UsersForStates.MOST_ROUTES, self._bound())

    async def _bound_after_too_large(self, callback: Callback, bound: int, deadline: float) -> int:
        """The bound for the rest of a call whose batch under ``bound`` was refused with 413: the
        module's own if another call has learnt a smaller one; else the one of the
        ``max_body_size`` the gateway announces now, read again at most once every
        REREAD_INTERVAL, within what is left of the call's timeout. A call refused while another
        reads it waits for that reading (until its own deadline) rather than read it too, or give
        its batch up. ``bound`` (nothing smaller to try) while the interval runs, and when the
        gateway cannot be asked."""
        if self._bound() < bound:
            return self._bound()
        now = self._reactor.seconds()
        if self._rereading is not None:
            return await self._reading_in_progress(bound, deadline)
        if self._bound_read_at is not None and now - self._bound_read_at < REREAD_INTERVAL:
            return bound
        self._bound_read_at = now
        self._rereading = []
        try:
            discovery = await self._client.discover(min(self._config.discovery_timeout, deadline - now))
        except GatewayFailure as failure:
            self._failures.warning(f"{callback.name} reread {type(failure).__name__}",
                                   "The policy gateway refused a batch of %s as too large, and cannot be asked its "
                                   "max_body_size again (%s)", callback.name, failure)
            return bound
        else:
            self._learn_limit(discovery.max_body_size)
            self._failures.warning(f"{callback.name} reread",
                                   "The policy gateway refused a batch of %s as too large; it now announces "
                                   "max_body_size %s: sending batches of at most %d bytes", callback.name,
                                   discovery.max_body_size, self._batch_bytes)
            return self._bound()
        finally:
            waiting, self._rereading = self._rereading, None
            for waiter in waiting:
                # from the reactor, in no log context: Synapse's make_deferred_yieldable then gives
                # each waiting call its own back, and this one keeps its own
                self._reactor.callLater(0, lambda waiter=waiter: waiter.called or waiter.callback(None))

    async def _reading_in_progress(self, bound: int, deadline: float) -> int:
        """Waits, until ``deadline``, for the reading another call is making of the limit."""
        assert self._rereading is not None
        read: "defer.Deferred[None]" = defer.Deferred()
        self._rereading.append(read)
        timer = self._reactor.callLater(max(deadline - self._reactor.seconds(), 0), read.cancel)
        try:
            await self._synapse.make_deferred_yieldable(read)
        except defer.CancelledError:
            return bound  # no time left: the batch fails as the deadline says
        finally:
            if timer.active():
                timer.cancel()
        return min(bound, self._bound())

    async def _batches(self, callback: Callback, args: Dict[str, Any],
                       bound: int) -> List[Tuple[Dict[str, Any], bytes]]:
        """``args`` once for each batch of the ``batched`` list, with its request body: ``args``
        alone when its body is within ``bound``; else consecutive items whose JSON adds up to at most ``bound`` (:func:`batch_bytes`), never
        splitting an item (a larger one goes alone).

        Items are measured one by one, but a batch is written as a whole: an item holding half a
        surrogate pair writes its whole batch with JSON's escapes (:func:`to_json_bytes`), up to
        three times its UTF-8 size. A batch whose body passes the bound is halved until it fits."""
        name = callback.batched
        assert name is not None
        whole = await self._body(callback, args)
        if len(whole) <= bound:
            return [(args, whole)]
        empty = len(await self._body(callback, {**args, name: []}))
        groups: List[List[Any]] = [[]]
        size = 0
        for item in args[name]:
            item_size = len(await self._body(callback, {**args, name: [item]})) - empty + 1  # and its comma
            if groups[-1] and size + item_size > bound:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += item_size
        batches: List[Tuple[Dict[str, Any], bytes]] = []
        unwritten = groups[::-1]  # a stack, so that the batches keep the items' order
        while unwritten:
            group = unwritten.pop()
            batch = {**args, name: group}
            body = await self._body(callback, batch)
            if len(body) > bound + empty and len(group) > 1:
                half = len(group) // 2
                unwritten += [group[half:], group[:half]]
            else:
                batches.append((batch, body))
        return batches

    def _failed(self, callback: Callback, call: Call, failure: GatewayFailure) -> Any:
        closed = callback.failure is FailurePolicy.CONFIGURABLE and (
            isinstance(failure, PolicyFailed) or not self._config.fails_open(callback.name))
        kind = f"{callback.name} {type(failure).__name__} {closed}"
        if not closed:
            self._failures.warning(kind, "Policy check %s failed (%s): answering as if no module decided",
                                   callback.name, failure)
            return callback.result.abstain(call)
        self._failures.warning(kind, "Policy check %s failed (%s): failing closed", callback.name, failure)
        if callback.refuse is not RAISE:
            return callback.refuse(call)
        if isinstance(failure, PolicyFailed):
            raise self._synapse.SynapseError(503, printable(failure.error or UNAVAILABLE, LONGEST_ERROR),
                                             printable(failure.errcode, LONGEST_ERRCODE))
        if isinstance(failure, TooLarge):
            # Asked again, the gateway refuses it again: "try again later" would have the client retry in vain.
            raise self._synapse.SynapseError(413, REFUSED_AS_TOO_LARGE if failure.within_limit else TOO_LARGE,
                                             self._synapse.Codes.TOO_LARGE)
        raise self._synapse.SynapseError(503, UNAVAILABLE, self._synapse.Codes.UNKNOWN)

    def _notify(self, callback: Callback, args: Dict[str, Any]) -> None:
        """Fire and forget: Synapse goes on at once, whatever the gateway does."""
        if not self._has_chain(callback.name):
            return
        if self._pending_notifications >= self._config.max_pending_notifications:
            self._failures.warning(f"{callback.name} dropped",
                                   "%d notifications are still on their way to the policy gateway: dropping %s",
                                   self._pending_notifications, callback.name)
            return
        self._pending_notifications += 1
        # Synapse calls on_new_event from the log context of a request that has already been
        # answered. A background process started there switches back to that finished context
        # when it yields, and Synapse logs "Re-starting finished log context" each time. The
        # reactor starts it on its next turn instead, from no log context at all.
        self._reactor.callLater(0, self._synapse.run_in_background_process, f"policy_gateway.{callback.name}",
                                self._deliver, callback, args)

    async def _deliver(self, callback: Callback, args: Dict[str, Any]) -> None:
        try:
            reply = await self._client.post(callback.path, await self._body(callback, args),
                                            self._config.timeout(callback.name), notification=True)
            interpret(reply.status, reply.body, callback.result, self._call(callback, args))
        except GatewayFailure as failure:
            self._failures.warning(f"{callback.name} {type(failure).__name__}",
                                   "Notification %s did not reach the policy gateway: %s", callback.name, failure)
        except defer.CancelledError:
            raise
        except Exception:  # a bug: logged whole here, rather than as Synapse's "background process threw"
            logger.exception("Notification %s could not be delivered to the policy gateway", callback.name)
        finally:
            self._pending_notifications -= 1

    async def _body(self, callback: Callback, args: Dict[str, Any]) -> bytes:
        body = {}
        try:
            for param in callback.params:
                value = param.to_json(args[param.name], self._synapse)
                if inspect.isawaitable(value):
                    value = await value
                body[param.json_field] = value
            body.update(callback.result.ASKS)
            return to_json_bytes(body)
        except defer.CancelledError:
            raise
        except Exception as unsendable:  # anything Synapse passed that we cannot write
            logger.exception("Cannot write the arguments of %s as JSON", callback.name)
            raise UnsendableArguments(f"{callback.name}: {unsendable}") from unsendable


class _UpdateIteration:
    """``on_update``'s async context manager: entering pauses as Synapse's own controller
    would, then asks the gateway for the iteration's duration; exiting tells it nothing (the
    gateway documents entry only).

    A module's ``on_update`` replaces Synapse's own context manager, whose entry sleeps
    ``background_updates.sleep_duration_ms`` (1 s) before each batch: without the same pause,
    registering this module would run every background update's batches back to back."""

    def __init__(self, module: PolicyGatewayModule, callback: Callback, args: Dict[str, Any]) -> None:
        self._module = module
        self._callback = callback
        self._args = args

    async def __aenter__(self) -> int:
        api = self._module._api
        pause = _pause_between_batches(api)
        if pause > 0 and hasattr(api, "sleep"):  # ModuleApi.sleep: Synapse 1.49 and later
            await api.sleep(pause)
        return await self._module._decide(self._callback, self._args)

    async def __aexit__(self, *exc_info: Any) -> bool:
        return False


def _pause_between_batches(api: Any) -> float:
    """The seconds Synapse's own controller sleeps before a background update's batch, from
    ``background_updates`` in homeserver.yaml (``sleep_enabled``, ``sleep_duration_ms``), which
    no public API exposes: Synapse's default, 1 s, where they cannot be read."""
    settings = getattr(getattr(getattr(api, "_hs", None), "config", None), "background_updates", None)
    if settings is None:
        return 1.0
    if not getattr(settings, "sleep_enabled", True):
        return 0.0
    milliseconds = getattr(settings, "sleep_duration_ms", 1000)
    return milliseconds / 1000 if isinstance(milliseconds, (int, float)) and milliseconds > 0 else 0.0


_NAME_BY_KEYWORD = {callback.register_as: callback.name for callback in ALL}
"""Synapse's docs name for each registration keyword, for the log."""


def _keyword_parameters(method: Callable[..., Any]) -> Optional[FrozenSet[str]]:
    """The callback names a ``register_*_callbacks`` method accepts; None if it takes any."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


class _QuietRepeats:
    """Logs a warning of one kind at most once a minute, saying how many like it went unlogged.

    While the gateway is down, every call fails the same way: ``is_user_expired`` alone runs on
    each authenticated request, so a line a call would bury Synapse's log. The first failure of a
    kind is logged at once, with its reason; the next after a minute says how many came between."""

    INTERVAL = 60.0

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds
        self._logged_at: Dict[str, float] = {}
        self._unlogged: Dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = self._seconds()
        logged_at = self._logged_at.get(kind)
        if logged_at is not None and now - logged_at < self.INTERVAL:
            self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
            return
        self._logged_at[kind] = now
        unlogged = self._unlogged.pop(kind, 0)
        if unlogged:
            logger.warning(message + " (%d more like it in the last %d s not logged)", *args, unlogged, now - logged_at)
        else:
            logger.warning(message, *args)
