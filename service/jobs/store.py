"""The durable job store: create jobs, claim scenarios under a lease, record each result exactly once.

Concurrency rules (the same code serves SQLite and PostgreSQL):

* **claim** is one ``UPDATE … WHERE (job_id, scenario_id) IN (SELECT … ORDER BY seq LIMIT n FOR UPDATE SKIP
  LOCKED) RETURNING …`` statement in its own transaction. PostgreSQL skips rows another claimer holds; SQLite
  renders no ``FOR UPDATE`` but takes its single write lock at the start of the statement (WAL, busy timeout),
  so two claimers are serialised and never see the same pending row.
* a scenario is claimable when it is ``pending``, or ``running`` with an expired lease (its worker died). With
  ``own=True`` (a worker, which claims only when it holds nothing) the scenarios still leased to the claimer come
  back too: they are from a claim that committed while the database's reply was lost in an outage, which the
  worker retried as failed. Without that its heartbeat renewed leases it did not know it held, and the job never
  finished. Such a scenario was never started, so its attempt is not counted again.
* **complete** inserts the result with ``ON CONFLICT DO NOTHING`` on the ``(job_id, scenario_id)`` key: if a
  reclaimed scenario finishes twice, the first result stays and the second is dropped.
* **create** streams the expanded scenarios into one transaction in chunks (memory does not grow with the
  sweep), checks the request's cancellation between chunks, and passes the request's commit point just before
  committing: a submission whose client was told it failed leaves nothing behind.
* **owners**: a job belongs to the API key that created it (``owner``; None without a key). Readers pass the
  owner they act for (:data:`ANY_OWNER` for the admin scope and the CLI); someone else's job is "not found".
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, case, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from service.jobs.models import job_results, job_scenarios, jobs
from service.jobs.spec import Scenario, SweepSpec, iter_scenarios, spec_hash
from service.usecases import OptimizerError, check_cancelled, commit_point

log = logging.getLogger("procure.jobs")

ACTIVE = ("pending", "running")
_INSERT_CHUNK = 2_000


class _AnyOwner:
    """Marker: act for every owner (the admin scope, the CLI, the workers)."""

    def __repr__(self) -> str:
        return "ANY_OWNER"


ANY_OWNER: Any = _AnyOwner()
"""Pass as ``owner`` to see every job; otherwise only the jobs of that key id (None: jobs made without a key)."""


class JobNotFoundError(OptimizerError):
    """No job has this id."""

    code = "job_not_found"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")


class JobConflictError(OptimizerError):
    """A job id or idempotency key is already used by a job with a different spec."""

    code = "job_conflict"


@dataclass(frozen=True)
class Claimed:
    """A scenario handed to one worker."""

    scenario_id: str
    seq: int
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What a worker reports for one scenario."""

    scenario_id: str
    seq: int
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    duration_ms: float
    attempts: int


@dataclass(frozen=True)
class JobStatus:
    """A job's state and progress."""

    id: str
    name: str | None
    state: str
    total: int
    counts: dict[str, int]
    created_at: float
    started_at: float | None
    finished_at: float | None
    executor: str | None
    axes: list[str]
    rate_per_min: float | None = None
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None

    @property
    def finished(self) -> int:
        """Scenarios with a result (done or failed)."""
        return self.counts.get("done", 0) + self.counts.get("failed", 0)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the recent rate (None when unknown or finished)."""
        left = self.total - self.finished
        if self.state not in ACTIVE or left <= 0 or not self.rate_per_min:
            return None
        return left / self.rate_per_min * 60

    def as_dict(self) -> dict[str, Any]:
        """JSON form (HTTP and ``--json``)."""

        def iso(t: float | None) -> str | None:
            return dt.datetime.fromtimestamp(t, dt.UTC).isoformat() if t is not None else None

        return {
            "id": self.id, "name": self.name, "state": self.state, "total": self.total,
            "done": self.counts.get("done", 0), "failed": self.counts.get("failed", 0),
            "running": self.counts.get("running", 0),
            "pending": self.counts.get("pending", 0) + self.counts.get("cancelled", 0),
            "progress": round(self.finished / self.total, 4) if self.total else 1.0,
            "rate_per_min": round(self.rate_per_min, 1) if self.rate_per_min else None,
            "eta_s": round(self.eta_s, 1) if self.eta_s is not None else None,
            "executor": self.executor, "axes": self.axes, "idempotency_key": self.idempotency_key,
            "owner": self.owner,
            "created_at": iso(self.created_at), "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }


def new_job_id() -> str:
    """A fresh job id."""
    return "job-" + uuid.uuid4().hex[:12]


def axes_of(spec: SweepSpec) -> list[str]:
    """Swept paths in the order written, then explicit scenario keys (the result columns)."""
    out = list(spec.sweep)
    for s in spec.scenarios:
        out += [k for k in s if k not in out]
    return out


class JobStore:
    """Job persistence on one SQLAlchemy engine (schema from the ``0002_jobs`` migration)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name

    # -- creation ---------------------------------------------------------------------------------------------

    def create(self, spec: SweepSpec, *, job_id: str | None = None, idempotency_key: str | None = None,
               scenarios: Iterable[Scenario] | None = None, owner: str | None = None,
               max_scenarios: int | None = None) -> tuple[JobStatus, bool]:
        """Create a job for ``spec`` or return the existing one with this id / idempotency key.

        The scenarios (default: the spec's, expanded one at a time) are written in chunks of ``_INSERT_CHUNK``
        inside one transaction; the job appears whole or not at all.

        Args:
            spec: The validated spec.
            job_id: A chosen id (a rerun with it resumes); default a fresh one.
            idempotency_key: The client's key; scoped by ``owner``, so two keys never share a job through it.
            scenarios: Pre-expanded scenarios (tests); default :func:`~service.jobs.spec.iter_scenarios`.
            owner: The API key id creating the job (None without a key).
            max_scenarios: The sweep cap (``jobs.max_scenarios``).

        Returns:
            ``(status, created)``.

        Raises:
            JobConflictError: the id or key belongs to a job with a different spec (or, for an id, another owner).
            LimitExceededError: the spec expands to more than ``max_scenarios``.
            WorkCancelledError: the submitting request was cancelled; nothing was stored.
        """
        digest = spec_hash(spec)
        scoped = _scoped_key(owner, idempotency_key)
        existing = self._existing(job_id, scoped, digest, owner)
        if existing is not None:
            return existing, False
        stream = iter(scenarios) if scenarios is not None else iter_scenarios(spec, max_scenarios=max_scenarios)
        jid = job_id or new_job_id()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(jobs).values(
                    id=jid, name=spec.name, spec=spec.model_dump(mode="json"), spec_hash=digest,
                    axes=axes_of(spec), idempotency_key=scoped, state="pending", total=0,
                    created_at=time.time(), owner=owner))
                total = 0
                while chunk := list(itertools.islice(stream, _INSERT_CHUNK)):
                    check_cancelled()
                    conn.execute(insert(job_scenarios), [
                        {"job_id": jid, "scenario_id": sc.id, "seq": sc.seq, "swept": sc.values,
                         "payload": sc.payload(), "status": "pending", "attempts": 0} for sc in chunk])
                    total += len(chunk)
                conn.execute(update(jobs).where(jobs.c.id == jid).values(total=total))
                commit_point()  # a cancelled submission rolls back here; past it, the job exists whatever happens
        except IntegrityError:
            # Another submission with the same id or key won the race: answer with its job.
            existing = self._existing(job_id, scoped, digest, owner)
            if existing is None:
                raise
            return existing, False
        except BaseException:
            self._give_back_log_space()
            raise
        return self.status(jid), True

    def _give_back_log_space(self) -> None:
        """Shrink SQLite's write-ahead log after a rolled-back submission.

        A big expansion spills its uncommitted rows into the log (tens of MB in the few seconds before a deadline on
        a fast machine); the rollback discards them, but the file keeps its size until a truncating checkpoint.
        Best effort: a busy database keeps its log, which the next checkpoint reuses.
        """
        if self._dialect != "sqlite":
            return
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA busy_timeout=1000")  # never hold the failing request long
                try:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    conn.exec_driver_sql("PRAGMA busy_timeout=30000")  # pooled connections keep the usual wait
        except SQLAlchemyError:
            log.warning("could not truncate the job database's write-ahead log", exc_info=True)

    def _existing(self, job_id: str | None, key: str | None, digest: str, owner: str | None) -> JobStatus | None:
        with self.engine.connect() as conn:
            for column, value, what in ((jobs.c.id, job_id, "job id"), (jobs.c.idempotency_key, key,
                                                                           "Idempotency-Key")):
                if value is None:
                    continue
                row = conn.execute(select(jobs.c.id, jobs.c.spec_hash, jobs.c.owner).where(column == value)).first()
                if row is None:
                    continue
                if row.owner != owner:
                    raise JobConflictError(f"{what} {_unscoped(value)!r} is already used by a job of another key")
                if row.spec_hash != digest:
                    raise JobConflictError(f"{what} {_unscoped(value)!r} is already used by job {row.id} with a "
                                           "different spec")
                return self.status(row.id)
        return None

    # -- reading ----------------------------------------------------------------------------------------------

    def owner_of(self, job_id: str) -> str | None:
        """The key id that owns a job (None: made without a key).

        Raises:
            JobNotFoundError: unknown id.
        """
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs.c.owner).where(jobs.c.id == job_id)).first()
        if row is None:
            raise JobNotFoundError(job_id)
        return str(row.owner) if row.owner is not None else None

    def status(self, job_id: str, *, rate_window_s: float = 30.0, owner: Any = ANY_OWNER) -> JobStatus:
        """State, counts per scenario status and the recent rate.

        Raises:
            JobNotFoundError: unknown id, or a job of another owner than ``owner``.
        """
        now = time.time()
        with self.engine.connect() as conn:
            job = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
            if job is None or (owner is not ANY_OWNER and job.owner != owner):
                raise JobNotFoundError(job_id)
            counts: dict[str, int] = {status: int(n) for status, n in conn.execute(
                select(job_scenarios.c.status, func.count()).where(job_scenarios.c.job_id == job_id)
                .group_by(job_scenarios.c.status)).all()}
            rate = None
            if job.state in ACTIVE and job.started_at is not None:
                window = min(rate_window_s, max(now - job.started_at, 1e-3))
                recent = conn.execute(select(func.count()).select_from(job_results).where(
                    job_results.c.job_id == job_id, job_results.c.created_at >= now - window)).scalar_one()
                rate = recent / window * 60 if recent else None
        return JobStatus(id=job.id, name=job.name, state=job.state, total=job.total, counts=counts,
                         created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
                         executor=job.executor, axes=list(job.axes), rate_per_min=rate,
                         idempotency_key=_unscoped(job.idempotency_key), owner=job.owner)

    def recent(self, *, limit: int = 50, owner: Any = ANY_OWNER) -> list[JobStatus]:
        """The most recent jobs first (of ``owner`` only, unless :data:`ANY_OWNER`)."""
        query = select(jobs.c.id).order_by(jobs.c.created_at.desc()).limit(limit)
        if owner is not ANY_OWNER:
            query = query.where(jobs.c.owner.is_(None) if owner is None else jobs.c.owner == owner)
        with self.engine.connect() as conn:
            ids = conn.execute(query).scalars().all()
        return [self.status(i) for i in ids]

    def unfinished(self) -> list[str]:
        """Jobs still pending or running, oldest first (what a restarted service resumes)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(jobs.c.id).where(jobs.c.state.in_(ACTIVE))
                                     .order_by(jobs.c.created_at)).scalars().all())

    def spec(self, job_id: str) -> SweepSpec:
        """The job's spec as submitted."""
        with self.engine.connect() as conn:
            data = conn.execute(select(jobs.c.spec).where(jobs.c.id == job_id)).scalar_one_or_none()
        if data is None:
            raise JobNotFoundError(job_id)
        return SweepSpec.model_validate(data)

    def results(self, job_id: str, *, page: int = 1_000, owner: Any = ANY_OWNER) -> Iterator[dict[str, Any]]:
        """Result rows in scenario order, read page by page (keyset on ``seq``)."""
        self.status(job_id, owner=owner)  # raises for an unknown id (or someone else's job)
        last = -1
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(job_results, job_scenarios.c.swept)
                    .join(job_scenarios, and_(job_scenarios.c.job_id == job_results.c.job_id,
                                              job_scenarios.c.scenario_id == job_results.c.scenario_id))
                    .where(job_results.c.job_id == job_id, job_results.c.seq > last)
                    .order_by(job_results.c.seq).limit(page)).mappings().all()
            if not rows:
                return
            for r in rows:
                yield dict(r)
            last = rows[-1]["seq"]

    # -- state changes ----------------------------------------------------------------------------------------

    def start(self, job_id: str, executor: str, *, resume_cancelled: bool = False) -> JobStatus:
        """Mark the job running (a cancelled job only when ``resume_cancelled``); cancelled scenarios go back."""
        now = time.time()
        with self.engine.begin() as conn:
            states = ("pending", "running", "cancelled") if resume_cancelled else ACTIVE
            moved = conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state.in_(states)).values(
                state="running", executor=executor, finished_at=None,
                started_at=func.coalesce(jobs.c.started_at, now))).rowcount
            if moved and resume_cancelled:
                conn.execute(update(job_scenarios).where(job_scenarios.c.job_id == job_id,
                                                         job_scenarios.c.status == "cancelled")
                             .values(status="pending"))
        self.finish_if_done(job_id)
        return self.status(job_id)

    def claim(self, job_id: str, owner: str, *, limit: int, lease_s: float, max_attempts: int = 3,
              own: bool = False) -> list[Claimed]:
        """Lease up to ``limit`` scenarios of a running job to ``owner`` (see the module notes).

        ``own=True`` says the caller holds no scenario now, so any still leased to ``owner`` come from a claim whose
        reply was lost: they are returned as well.
        """
        now = time.time()
        s = job_scenarios.c
        mine = and_(s.status == "running", s.lease_owner == owner)
        free = and_(s.attempts < max_attempts,
                    or_(s.status == "pending", and_(s.status == "running", s.lease_expires_at < now)))
        pick = (select(s.job_id, s.scenario_id)
                .where(s.job_id == job_id, or_(mine, free) if own else free)
                .order_by(s.seq).limit(limit).with_for_update(skip_locked=True))
        running_job = select(jobs.c.id).where(jobs.c.id == job_id, jobs.c.state == "running").exists()
        stmt = (update(job_scenarios)
                .where(tuple_(s.job_id, s.scenario_id).in_(pick), running_job)
                .values(status="running", lease_owner=owner, lease_expires_at=now + lease_s,
                        attempts=s.attempts + (case((mine, 0), else_=1) if own else 1), started_at=now)
                .returning(s.scenario_id, s.seq, s.payload, s.attempts))
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
        return sorted((Claimed(r.scenario_id, r.seq, r.payload, r.attempts) for r in rows), key=lambda c: c.seq)

    def renew(self, owner: str, lease_s: float) -> int:
        """Extend every lease ``owner`` holds; returns how many."""
        with self.engine.begin() as conn:
            return conn.execute(update(job_scenarios).where(job_scenarios.c.lease_owner == owner,
                                                            job_scenarios.c.status == "running")
                                .values(lease_expires_at=time.time() + lease_s)).rowcount

    def complete(self, job_id: str, owner: str, outcomes: Sequence[Outcome]) -> int:
        """Record outcomes; a scenario that already has a result keeps it. Returns how many were new."""
        if not outcomes:
            return 0
        now = time.time()
        rows = [{"job_id": job_id, "scenario_id": o.scenario_id, "seq": o.seq, "status": "done" if o.ok else "failed",
                 "result": o.result, "error": o.error, "duration_ms": o.duration_ms, "worker": owner,
                 "attempts": o.attempts, "created_at": now} for o in outcomes]
        dialect_insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(job_results).on_conflict_do_nothing(index_elements=["job_id", "scenario_id"])
        with self.engine.begin() as conn:
            new = conn.execute(stmt.returning(job_results.c.scenario_id), rows).all()
            for ok in (True, False):
                ids = [o.scenario_id for o in outcomes if o.ok is ok]
                if ids:
                    conn.execute(update(job_scenarios).where(
                        job_scenarios.c.job_id == job_id, job_scenarios.c.scenario_id.in_(ids),
                        job_scenarios.c.status.in_(("pending", "running", "cancelled")))
                        .values(status="done" if ok else "failed", lease_owner=None, lease_expires_at=None,
                                finished_at=now))
        return len(new)

    def release(self, owner: str) -> int:
        """Hand back the scenarios ``owner`` still holds (its process ended); they are claimable at once.

        ``owner`` is a worker's full name, or the token its coordinator gave it (the worker's name is
        ``<token>@<where it runs>``, which the coordinator does not know).
        """
        s = job_scenarios.c
        with self.engine.begin() as conn:
            return conn.execute(update(job_scenarios).where(
                or_(s.lease_owner == owner, s.lease_owner.startswith(owner + "@", autoescape=True)),
                s.status == "running").values(status="pending", lease_owner=None, lease_expires_at=None)).rowcount

    def fail_exhausted(self, job_id: str, max_attempts: int = 3) -> int:
        """Scenarios whose workers died ``max_attempts`` times get a failed result instead of another try."""
        now = time.time()
        s = job_scenarios.c
        with self.engine.connect() as conn:
            stuck = conn.execute(select(s.scenario_id, s.seq, s.attempts).where(
                s.job_id == job_id, s.attempts >= max_attempts,
                or_(s.status == "pending", and_(s.status == "running", s.lease_expires_at < now)))).all()
        return self.complete(job_id, "store", [
            Outcome(r.scenario_id, r.seq, False, None, f"its worker died {r.attempts} times running this scenario",
                    0.0, r.attempts) for r in stuck])

    def pending_work(self, job_id: str) -> tuple[str, int]:
        """The job's state and how many scenarios are still pending or running."""
        with self.engine.connect() as conn:
            state = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar_one_or_none()
            if state is None:
                raise JobNotFoundError(job_id)
            left = conn.execute(select(func.count()).select_from(job_scenarios).where(
                job_scenarios.c.job_id == job_id, job_scenarios.c.status.in_(ACTIVE))).scalar_one()
        return state, int(left)

    def finish_if_done(self, job_id: str) -> bool:
        """Mark a running job completed when no scenario is pending or running; True when it is (now) complete."""
        with self.engine.begin() as conn:
            left = select(job_scenarios.c.scenario_id).where(job_scenarios.c.job_id == job_id,
                                                             job_scenarios.c.status.in_(ACTIVE)).exists()
            conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state.in_(ACTIVE), ~left)
                         .values(state="completed", finished_at=time.time()))
            state = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar_one_or_none()
        return state == "completed"

    def cancel(self, job_id: str, *, owner: Any = ANY_OWNER) -> JobStatus:
        """Stop a job: no new claims; pending scenarios are marked cancelled (running ones may still report)."""
        with self.engine.begin() as conn:
            found = conn.execute(select(jobs.c.state, jobs.c.owner).where(jobs.c.id == job_id)).first()
            if found is None or (owner is not ANY_OWNER and found.owner != owner):
                raise JobNotFoundError(job_id)
            conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state.in_(ACTIVE))
                         .values(state="cancelled", finished_at=time.time()))
            conn.execute(update(job_scenarios).where(job_scenarios.c.job_id == job_id,
                                                     job_scenarios.c.status.in_(ACTIVE))
                         .values(status="cancelled", lease_owner=None, lease_expires_at=None))
        return self.status(job_id)

    def job_state(self, job_id: str) -> str | None:
        """Just the state (cheap; workers poll it to stop promptly on cancel)."""
        with self.engine.connect() as conn:
            state: str | None = conn.execute(select(jobs.c.state).where(jobs.c.id == job_id)).scalar_one_or_none()
        return state


def _scoped_key(owner: str | None, key: str | None) -> str | None:
    """The stored form of an idempotency key: ``<owner or ->:<key>``, so keys of different owners never meet."""
    return None if key is None else f"{owner or '-'}:{key}"


def _unscoped(stored: str | None) -> str | None:
    """The client's idempotency key from its stored form (older rows have no prefix)."""
    if stored is None:
        return None
    owner, sep, key = stored.partition(":")
    return key if sep and (owner == "-" or len(owner) == 12) else stored
