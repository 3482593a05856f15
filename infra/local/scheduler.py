"""Fires the template's EventBridge schedules locally (moto never fires them), with a speed-up factor for demos.

rate(N unit) fires every N units divided by the speed-up; cron(...) expressions (EventBridge's six fields, UTC)
fire at their next matching minute, also compressed by the speed-up, so a daily job can be watched in a demo."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.template import Schedule

log = logging.getLogger("scheduler")

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_S = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _field_values(spec: str, low: int, high: int) -> set[int] | None:
    """None means 'any'. Supports *, ?, lists, ranges and steps (what our templates use)."""
    if spec in {"*", "?"}:
        return None
    values: set[int] = set()
    for part in spec.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, step_s = part.split("/")
            step = int(step_s)
        if part in {"*", ""}:
            start, end = low, high
        elif "-" in part:
            start, end = (int(x) for x in part.split("-"))
        else:
            start = int(part)
            end = high if stepped else start  # "0/15" means from 0 every 15, as in EventBridge
        values.update(range(start, end + 1, step))
    return values


@dataclass
class CronSpec:
    minutes: set[int] | None
    hours: set[int] | None
    days: set[int] | None
    months: set[int] | None
    weekdays: set[int] | None  # EventBridge: 1 = Sunday ... 7 = Saturday

    @classmethod
    def parse(cls, expr: str) -> CronSpec:
        inner = expr.strip()[len("cron(") : -1].split()
        if len(inner) != 6:
            raise ValueError(f"EventBridge cron needs 6 fields: {expr}")
        minute, hour, dom, month, dow, _year = inner
        names = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
        for name, num in names.items():
            dow = dow.upper().replace(name, str(num))
        return cls(
            _field_values(minute, 0, 59),
            _field_values(hour, 0, 23),
            _field_values(dom, 1, 31),
            _field_values(month, 1, 12),
            _field_values(dow, 1, 7),
        )

    def matches(self, t: dt.datetime) -> bool:
        weekday = (t.isoweekday() % 7) + 1  # Python Monday=1..Sunday=7 -> EventBridge Sunday=1
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.minutes, t.minute),
                (self.hours, t.hour),
                (self.days, t.day),
                (self.months, t.month),
                (self.weekdays, weekday),
            )
        )

    def next_after(self, t: dt.datetime) -> dt.datetime:
        candidate = t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if self.matches(candidate):
                return candidate
            candidate += dt.timedelta(minutes=1)
        raise ValueError("cron expression never fires")


def interval_seconds(expression: str) -> float | None:
    m = _RATE.match(expression.strip())
    return int(m.group(1)) * _UNIT_S[m.group(2)] if m else None


@dataclass
class _Job:
    schedule: Schedule
    next_at: float
    fired: int = 0
    last_error: str | None = None
    cron: CronSpec | None = None
    interval: float | None = None


@dataclass
class Scheduler:
    schedules: list[Schedule]
    fire: Callable[[Schedule], Any]
    speedup: float = 1.0
    clock: Callable[[], float] = field(default=lambda: __import__("time").monotonic())
    _stop: threading.Event = field(default_factory=threading.Event)
    jobs: list[_Job] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = self.clock()
        for s in self.schedules:
            if not s.enabled:
                continue
            interval = interval_seconds(s.expression)
            job = _Job(s, now, interval=interval)
            if interval is None:
                job.cron = CronSpec.parse(s.expression)
                job.next_at = now + self._cron_delay(job.cron)
            else:
                job.next_at = now + interval / self.speedup
            self.jobs.append(job)

    def _cron_delay(self, cron: CronSpec) -> float:
        utc = dt.datetime.now(dt.UTC)
        return (cron.next_after(utc) - utc).total_seconds() / self.speedup

    def tick(self) -> int:
        """Fire every due job once; returns how many fired. Separate from run() so tests drive time."""
        fired = 0
        now = self.clock()
        for job in self.jobs:
            if now < job.next_at:
                continue
            try:
                self.fire(job.schedule)
                job.last_error = None
            except Exception as exc:  # a failing job is logged and retried at its next slot, like EventBridge
                job.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("scheduled %s failed", job.schedule.function)
            job.fired += 1
            fired += 1
            if job.interval is not None:
                job.next_at = now + job.interval / self.speedup
            else:
                assert job.cron is not None
                job.next_at = now + self._cron_delay(job.cron)
        return fired

    def run(self, poll_s: float = 0.5) -> None:
        while not self._stop.wait(poll_s):
            self.tick()

    def stop(self) -> None:
        self._stop.set()

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "status": "ok",
            "speedup": self.speedup,
            "jobs": {
                f"{j.schedule.function}.{j.schedule.name}": {
                    "expression": j.schedule.expression,
                    "fired": j.fired,
                    "next_in_s": round(max(0.0, j.next_at - now), 1),
                    "last_error": j.last_error,
                }
                for j in self.jobs
            },
        }
