"""One remote call per shard, gathered with per-shard outcomes instead of failing on the first."""
from __future__ import annotations

import time
from typing import Any, Optional

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

from vecindex.distributed.actor import DIRECT_METHODS

try:  # newer Ray raises this while an actor restarts; older ones only RayActorError
    from ray.exceptions import ActorUnavailableError as _Unavailable
except ImportError:  # pragma: no cover - depends on the Ray version
    _Unavailable = RayActorError

_SHARD_DOWN = (RayActorError, _Unavailable, GetTimeoutError)


class Outcome:
    """Per-shard results, the first user error a shard raised, and the shards that did not answer."""

    def __init__(self):
        self.values: dict = {}
        self.tokens: dict = {}
        self.errors: dict = {}
        self.down: dict = {}

    def raise_user_error(self) -> None:
        if self.errors:
            raise self.errors[min(self.errors)]


def call(actors: list, method: str, shards: Optional[list] = None, args_by_shard: Optional[dict] = None,
         args: tuple = (), timeout: Optional[float] = None) -> Outcome:
    """Calls ``method`` on the given shards (all by default) and waits up to ``timeout`` seconds."""
    shards = list(range(len(actors))) if shards is None else shards
    refs = {}
    direct = method in DIRECT_METHODS
    for shard in shards:
        shard_args = args_by_shard[shard] if args_by_shard is not None else args
        if direct:
            refs[shard] = getattr(actors[shard], method).remote(*shard_args)
        else:
            refs[shard] = actors[shard].invoke.remote(method, *shard_args)
    outcome = Outcome()
    if not refs:
        return outcome
    started = time.monotonic()
    try:  # the common case, in one call: every shard answers
        answers = ray.get(list(refs.values()), timeout=timeout)
    except (RayTaskError,) + _SHARD_DOWN:
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        return _one_by_one(refs, outcome, timeout, left)
    for shard, (token, value) in zip(refs, answers):
        outcome.tokens[shard], outcome.values[shard] = token, value
    return outcome


def _one_by_one(refs: dict, outcome: Outcome, timeout: Optional[float], left: Optional[float]) -> Outcome:
    """Sorts each shard's answer into a value, a user error, or unavailability; shards that
    have not answered get what is ``left`` of the timeout."""
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=left)
    ready_set = set(ready)
    for shard, ref in refs.items():
        if ref not in ready_set:
            outcome.down[shard] = f"no answer within {timeout:g} s"
            continue
        try:
            outcome.tokens[shard], outcome.values[shard] = ray.get(ref)
        except RayTaskError as error:
            outcome.errors[shard] = _user_error(error)
        except _SHARD_DOWN as error:
            outcome.down[shard] = _reason(error)
    return outcome


def _user_error(error: RayTaskError) -> BaseException:
    """The exception the shard's Index raised, as the caller of Index would see it."""
    cause: Any = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first[:200]}"
