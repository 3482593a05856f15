"""Secrets never reach a log line. Installed once when `strategist` is imported, for every logger in the process
(the service's own, Powertools', boto's, httpx's, the Lambda runtime's): `Logger.makeRecord` is wrapped so each
record's message, arguments, extra fields and traceback text are scrubbed before any handler or formatter sees them.

What is scrubbed: JWTs, API keys (`msk_<prefix>_…`, the prefix is kept: it identifies the key, it does not prove
it), webhook secrets (`whsec_…`), bearer credentials, OAuth tokens in the platforms' formats (Google `1//…`,
`ya29.…`, Meta `EAA…`), `sk-…` style model-provider keys, any `password|secret|token|api_key|authorization`
field in `key=value`, `key: value` or JSON form, and the exact values of secret-looking environment variables
(`*_KEY`, `*_SECRET`, `*_TOKEN`, `*PASSWORD*`), e.g. a language-model key set in the function's environment."""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from typing import Any

MASK = "[redacted]"

#: (cheap substring trigger, pattern, replacement): a pattern only runs when its trigger is in the text, so an
#: ordinary line costs a few substring checks.
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    ("eyJ", re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted jwt]"),
    ("msk_", re.compile(r"\b(msk_[0-9a-f]{12}_)[A-Za-z0-9_-]+"), r"\1" + MASK),
    ("whsec_", re.compile(r"\bwhsec_[A-Za-z0-9_+/=-]+"), "whsec_" + MASK),
    ("1//", re.compile(r"\b1//[A-Za-z0-9_-]{4,}"), MASK),
    ("ya29.", re.compile(r"\bya29\.[A-Za-z0-9_.-]+"), MASK),
    ("EAA", re.compile(r"\bEAA[A-Za-z0-9]{8,}"), MASK),
    ("sk-", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), MASK),
    ("", re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
]
#: "password": "…", password=…, client_secret: …, X-Api-Key: …, refresh_token=… (JSON, form, headers, reprs)
_FIELD_TRIGGER = re.compile(r"(?i)password|passwd|secret|token|api[_-]?key|authorization|credential")
_FIELD = re.compile(
    r"""(?ix)
    (["']?\b[\w-]*?(?:password|passwd|secret|token|api[_-]?key|authorization|credentials?)["']?
     \s*[:=]\s*
     (?:b?["'])?)
    (?!\[redacted)[^\s"',&;}\]]+"""
)
_BEARER_TRIGGER = re.compile(r"(?i)bearer|basic")

_SECRET_ENV = re.compile(r"(?i)(_KEY|_SECRET|_TOKEN|PASSWORD|_PASS)$|PASSWORD")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_installed = False


_env_cache: tuple[int, float, list[str]] = (-1, 0.0, [])


def _env_secrets() -> list[str]:
    """Values of secret-looking environment variables, longest first. Re-read when a variable is added or
    removed, and at least once a second (a changed value is picked up within that second)."""
    global _env_cache
    size, at, values = _env_cache
    now = time.monotonic()
    if size == len(os.environ) and now - at < 1.0:
        return values
    values = sorted(
        {v for k, v in os.environ.items() if len(v) >= 8 and _SECRET_ENV.search(k)}, key=len, reverse=True
    )
    _env_cache = (len(os.environ), now, values)
    return values


def redact(text: str) -> str:
    """The text with every recognisable secret replaced by a marker."""
    for value in _env_secrets():
        if value in text:
            text = text.replace(value, MASK)
    for trigger, pattern, repl in _PATTERNS:
        if trigger and trigger not in text:
            continue
        if not trigger and not _BEARER_TRIGGER.search(text):
            continue
        text = pattern.sub(repl, text)
    if _FIELD_TRIGGER.search(text):
        text = _FIELD.sub(r"\1" + MASK, text)
    return text


def _scrub(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v, depth + 1) for v in value)
    if isinstance(value, (bytes, bytearray)):
        return redact(value.decode("utf-8", "replace"))
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


def _redacted_exc_info(exc_info: Any) -> tuple[str, tuple[type, BaseException, None]]:
    """Formatters render exc_info themselves (Powertools calls formatException, and keeps the exception object),
    so the original exception, whose message and chained causes may hold a secret, is swapped for a stand-in of
    the same type name whose message is the redacted full traceback text."""
    kind, _, _ = exc_info
    text = redact("".join(traceback.format_exception(*exc_info)).rstrip("\n"))
    stand_in_type = type(
        getattr(kind, "__name__", "Error"),
        (Exception,),
        {"__module__": getattr(kind, "__module__", __name__), "__str__": lambda self: self.args[0]},
    )
    stand_in = stand_in_type(text)
    stand_in.__suppress_context__ = True
    return text, (stand_in_type, stand_in, None)


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        if isinstance(record.msg, str):
            message = record.getMessage()
            clean = redact(message)
            if clean != message or record.args:
                record.msg, record.args = clean, None
        else:
            record.msg = _scrub(record.msg)  # Powertools and structured loggers log dicts
            if record.args:
                record.args = _scrub(record.args)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text, record.exc_info = _redacted_exc_info(record.exc_info)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _scrub(value))
    except Exception:  # a log line must never fail the request; fall back to the bare template
        record.msg, record.args = redact(str(record.msg)), None
    return record


def install() -> None:
    """Wrap Logger.makeRecord once per process (idempotent)."""
    global _installed
    if _installed:
        return
    original = logging.Logger.makeRecord

    def make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(original(self, *args, **kwargs))

    make_record.unwrapped = original  # type: ignore[attr-defined]
    logging.Logger.makeRecord = make_record  # type: ignore[method-assign]
    _installed = True
