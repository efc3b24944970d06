"""Answers to SNOMED CT hierarchy questions, asked of an optional terminology server before evaluation.

Strictly time-bounded: every question still open when the bound passes is cancelled, and its concept falls
back to the ValueSet's shipped expansion, so a slow or hanging server costs at most the bound, never the
hook's answer. At most ``max_concurrent`` requests are in flight per call, so one record with many codes
does not flood the server. Answers (yes and no) are cached for ``cache_seconds``; failures are not cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from stratcare.fhir.terminology_server import TerminologyUnavailable
from stratcare.pathways.subsumption import Subsumption

logger = logging.getLogger(__name__)
DEFAULT_CACHE_SECONDS = 24 * 3600.0
MAX_CACHED = 50_000
DEFAULT_MAX_CONCURRENT = 8


class SubsumptionServer(Protocol):
    async def is_a(self, system: str, ancestor: str, code: str) -> bool: ...


class HierarchyLookup:
    def __init__(
        self,
        server: SubsumptionServer,
        *,
        timeout_seconds: float,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._server = server
        self._max_concurrent = max_concurrent
        self._timeout = timeout_seconds
        self._ttl = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[Subsumption, tuple[bool, float]] = {}

    async def answer(self, questions: Iterable[Subsumption]) -> dict[Subsumption, bool]:
        """What is known within the time bound; never raises for the server's sake."""
        now = self._monotonic()
        known: dict[Subsumption, bool] = {}
        open_questions: list[Subsumption] = []
        for question in sorted(set(questions)):
            cached = self._cache.get(question)
            if cached is not None and cached[1] > now:
                known[question] = cached[0]
            else:
                open_questions.append(question)
        if open_questions:
            known |= await self._ask(open_questions)
        return known

    async def _ask(self, questions: list[Subsumption]) -> dict[Subsumption, bool]:
        slots = asyncio.Semaphore(self._max_concurrent)

        async def ask(question: Subsumption) -> bool:
            async with slots:
                return await self._server.is_a(question.system, question.ancestor, question.code)

        tasks = {asyncio.create_task(ask(question)): question for question in questions}
        done, pending = await asyncio.wait(tasks, timeout=self._timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            logger.warning(
                "terminology server did not answer in time; shipped expansion used",
                extra={"unanswered": len(pending), "timeoutSeconds": self._timeout},
            )
        answers: dict[Subsumption, bool] = {}
        expires = self._monotonic() + self._ttl
        for task in done:
            error = task.exception()
            if error is not None:
                reason = str(error) if isinstance(error, TerminologyUnavailable) else type(error).__name__
                logger.warning(
                    "terminology server gave no answer; shipped expansion used", extra={"reason": reason}
                )
                continue
            question = tasks[task]
            answers[question] = task.result()
            self._remember(question, answers[question], expires)
        return answers

    def _remember(self, question: Subsumption, answer: bool, expires: float) -> None:
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[question] = (answer, expires)
