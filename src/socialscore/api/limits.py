"""Bounded cost per client: a token bucket per API key, and the bounds on ``explain: true``.

Both live in one worker process and run on its event loop (no locks needed); with ``--workers N``
each worker has its own buckets, so a key may send up to N times the rate in total.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from socialscore.api.errors import ApiError

T = TypeVar("T")

MAX_BUCKETS = 10_000  # clients remembered at once (keyed by address when no keys are set)


class RateLimiter:
    """One token bucket per client: ``burst`` requests at once, refilled at ``per_second``.

    An empty bucket answers 429 with ``Retry-After``: the seconds until the next token.
    """

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def take(self, client: str) -> None:
        """Spend one token of ``client``'s bucket or raise ApiError(429)."""
        if not self.enabled:
            return
        now = self._clock()
        tokens, at = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens < 1.0:
            self._remember(client, tokens, now)
            wait = math.ceil((1.0 - tokens) / self.per_second)
            raise ApiError(429, "rate_limited",
                           f"rate limit of {self.per_second:g} requests/s (burst {self.burst}) for this key reached; "
                           f"retry in {wait} s", {"Retry-After": str(wait)})
        self._remember(client, tokens - 1.0, now)

    def _remember(self, client: str, tokens: float, now: float) -> None:
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)  # the least recently seen client starts afresh


class ExplainGate:
    """At most ``concurrency`` explanations at once, each answered within ``timeout`` seconds.

    Explanations run on their own threads, never on the pool scoring uses. One still over its time
    keeps its slot until its thread really ends (a thread cannot be stopped), so no more than
    ``concurrency`` ever run; meanwhile new ones get 429, and the late one 503, with ``Retry-After``.
    """

    def __init__(self, concurrency: int, timeout: float):
        self.concurrency = concurrency
        self.timeout = timeout
        self.running = 0
        self._pool: ThreadPoolExecutor | None = None

    @property
    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.timeout)))

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self.running >= self.concurrency:
            raise ApiError(429, "explain_busy",
                           f"{self.concurrency} explanation(s) already running; retry later or score without explain",
                           {"Retry-After": self.retry_after})
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="explain")
        self.running += 1
        future = asyncio.get_running_loop().run_in_executor(self._pool, function, *args)
        future.add_done_callback(self._release)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            raise ApiError(503, "explain_timeout",
                           f"the explanation took over {self.timeout:g} s; retry later or send a shorter text",
                           {"Retry-After": self.retry_after}) from None

    def _release(self, future: asyncio.Future) -> None:
        self.running -= 1
        if not future.cancelled():
            future.exception()  # retrieved: a late failure is not logged as "never retrieved"

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
