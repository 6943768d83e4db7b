"""Micro-batching for single-text requests: texts that arrive while a batch is being scored are scored
together in the next one (one vectorised call), which amortises the per-call cost of scikit-learn.

No timer: an idle server scores a lone request at once; under load batches form by themselves.
Each queued text keeps the model its request started with, so a reload never mixes models.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

Item = tuple[Any, str, "asyncio.Future[dict]"]  # (LoadedModel, text, future)


class MicroBatcher:
    def __init__(self, score: Callable[[Any, list[str]], Any], max_batch: int = 64):
        self._score = score  # (LoadedModel, texts) -> modeling.scorer.scores.Scores, blocking
        self._max_batch = max_batch
        self._pending: list[Item] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def score(self, loaded: Any, text: str) -> dict:
        """The scored row (with model_version) for one text."""
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._pending.append((loaded, text, future))
        assert self._wake is not None
        self._wake.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, _, future in self._pending:
            if not future.done():
                future.cancel()
        self._pending.clear()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                groups: dict[int, list[Item]] = {}
                for item in batch:
                    groups.setdefault(id(item[0]), []).append(item)
                for items in groups.values():
                    await self._score_group(items)

    async def _score_group(self, items: list[Item]) -> None:
        live = [item for item in items if not item[2].done()]  # skip requests already cancelled
        if not live:
            return
        loaded = live[0][0]
        try:
            scores = await run_in_threadpool(self._score, loaded, [text for _, text, _ in live])
        except Exception as exc:  # noqa: BLE001 - handed to each waiting request
            for _, _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        version = loaded.version
        for i, (_, _, future) in enumerate(live):
            if not future.done():
                row = scores.row(i)
                row["model_version"] = version
                future.set_result(row)
