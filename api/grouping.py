"""Group commit of JSON uploads inside one service worker.

Uploads that arrive while an earlier group is in the database wait in :class:`UploadGroups` and go as the next
group: one thread-pool hand-off, and for each account's uploads one transaction (its token confirmations, the
products read once, one vectorized check, one statement, one COMMIT;
:func:`gi.field.receive.receive_samples_together`). Nothing waits on purpose: an upload arriving when no group is
running starts one at once, alone, through the single-upload path.

The answers are those of the single path, upload by upload: each is committed with its audit entry before its
201, and when any upload of a group fails (a bad field, a conflict, a retry beside its original, a revoked
token, a database error) the group is rolled back and each of its uploads is received alone, in arrival order,
through the single-upload path in its own request's session, so one upload's problem is never another's.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.deps import UNCONFIRMED, invalid_token
from gi.accounts.tokens import confirm_token
from gi.audit.actor import set_actor
from gi.field.receive import ReceivedSample, Submission, receive_sample, receive_samples_together
from gi.settings import Settings

# More waiting uploads than this go as the next group (a bound on one transaction's size and wait).
MAX_GROUP = 64
# Groups of one worker in the database at once. One: the uploads arriving meanwhile make the next group (two
# measured no faster and with more CPU per upload: smaller groups, benchmarks/api.py).
IN_FLIGHT = 1


@dataclass
class _Waiting:
    """One upload waiting for its group: its request's session, its submission and the answer to come."""

    session: Session
    submission: Submission
    future: asyncio.Future[ReceivedSample] = field(repr=False)


def receive_alone(session: Session, submission: Submission, settings: Settings) -> ReceivedSample:
    """The single-upload path: receive the sample in the request's own session and commit (a worker thread)."""
    received = receive_sample(
        session, submission.fields, submission.submitter, submission.seal_codes, settings
    )
    session.commit()
    return received


def _alone(waiting: _Waiting, settings: Settings) -> ReceivedSample | BaseException:
    try:
        return receive_alone(waiting.session, waiting.submission, settings)
    except Exception as exc:  # answered to its own request (the problem handlers format it)
        return exc


def _together(
    engine: Engine, group: list[_Waiting], settings: Settings
) -> list[ReceivedSample | BaseException]:
    """One account's uploads in one transaction; on any failure, rolled back and each received alone."""
    session = Session(bind=engine, expire_on_commit=False)
    try:
        set_actor(session, group[0].submission.submitter.username)
        # Each cached token is confirmed in this transaction, as the request's own first statement would have
        # (the same query names the actor): a revoked one fails the group, and alone its upload is 401.
        pending = {}
        for w in group:
            unconfirmed = w.session.info.get(UNCONFIRMED)
            if unconfirmed is not None:
                pending[unconfirmed[0]] = unconfirmed
        if pending:
            connection = session.connection()
            for token, expected, cache in pending.values():
                if confirm_token(session, connection, token) != expected:
                    cache.forget(token)
                    raise invalid_token()
        received: list[ReceivedSample | BaseException] = list(
            receive_samples_together(session, [w.submission for w in group], settings)
        )
        session.commit()
    except Exception:
        try:
            session.close()  # rolls back the group
        except Exception:  # noqa: S110  (the database is gone: each upload alone meets it and answers 503)
            pass
        return [_alone(w, settings) for w in group]
    session.close()
    for w in group:  # confirmed above: the request's session has nothing left to check when it closes
        w.session.info.pop(UNCONFIRMED, None)
    return received


def _receive_all(
    engine: Engine, taken: list[_Waiting], settings: Settings
) -> list[ReceivedSample | BaseException]:
    """The answers of the uploads taken, in order (a worker thread): grouped by account, as a transaction's audit
    entries record one actor; an account's lone upload goes through the single path."""
    by_account: dict[str, list[int]] = {}
    for k, w in enumerate(taken):
        by_account.setdefault(w.submission.submitter.username, []).append(k)
    answers: list[ReceivedSample | BaseException | None] = [None] * len(taken)
    for positions in by_account.values():
        group = [taken[k] for k in positions]
        done = [_alone(group[0], settings)] if len(group) == 1 else _together(engine, group, settings)
        for k, answer in zip(positions, done, strict=True):
            answers[k] = answer
    return [a if a is not None else RuntimeError("upload not answered") for a in answers]


class UploadGroups:
    """The uploads of one worker waiting for their group, and the task that stores the groups one after another."""

    def __init__(self, in_flight: int = IN_FLIGHT) -> None:
        self.waiting: list[_Waiting] = []
        self.in_flight = in_flight
        self.tasks: set[asyncio.Task[None]] = set()

    async def receive(
        self, engine: Engine, session: Session, submission: Submission, settings: Settings
    ) -> ReceivedSample:
        """Receive one upload with whatever uploads wait beside it; its own answer (or its own problem)."""
        future: asyncio.Future[ReceivedSample] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiting(session, submission, future))
        if len(self.tasks) < self.in_flight:
            task = asyncio.create_task(self._drain(engine, settings))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # A worker thread may still be using this request's session: the request ends (and its session is
            # closed) only after its group is done with it, as a cancelled run_in_threadpool waits for its thread.
            while not future.done():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(future)
            raise

    async def _drain(self, engine: Engine, settings: Settings) -> None:
        while self.waiting:
            taken, self.waiting = self.waiting[:MAX_GROUP], self.waiting[MAX_GROUP:]
            answers: list[Any]
            try:
                answers = await run_in_threadpool(_receive_all, engine, taken, settings)
            except BaseException as exc:  # noqa: BLE001  (every waiting request is answered, whatever happens)
                answers = [exc] * len(taken)
            for w, answer in zip(taken, answers, strict=True):
                if w.future.done():
                    continue
                if isinstance(answer, BaseException):
                    w.future.set_exception(answer)
                else:
                    w.future.set_result(answer)
