"""Templates and the branded layout.

Tenant templates are Jinja2 run in the immutable sandbox (no attribute tricks, no mutation), with StrictUndefined
(a misspelt variable is an error, not an empty string) and autoescape for HTML only. Every message, templated or
not, is wrapped in the tenant's white-label layout (logo, colours, sender name, footer) with a per-recipient
unsubscribe link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from strategist.domain.errors import ValidationFailed

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Always available to a template, filled from the tenant and client.
BUILTIN_VARIABLES = ("tenant_name", "client_name", "sender_name")
VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_text_env = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_html_env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def used_variables(source: str, field: str) -> set[str]:
    try:
        return meta.find_undeclared_variables(_text_env.parse(source))
    except TemplateError as exc:
        raise ValidationFailed.one(field, f"template syntax error: {exc}") from exc


def check_template(fields: dict[str, str | None], declared: list[str]) -> None:
    """Syntax, and every variable used is declared (or built in)."""
    allowed = set(declared) | set(BUILTIN_VARIABLES)
    for field, source in fields.items():
        if source is None:
            continue
        unknown = sorted(used_variables(source, field) - allowed)
        if unknown:
            raise ValidationFailed.one(field, f"uses undeclared variable(s): {', '.join(unknown)}")


def render(
    *,
    subject: str,
    body_text: str,
    body_html: str | None,
    variables: dict[str, Any],
) -> tuple[str, str, str | None]:
    out: list[str | None] = []
    for field, source, env in (
        ("subject", subject, _text_env),
        ("body_text", body_text, _text_env),
        ("body_html", body_html, _html_env),
    ):
        if source is None:
            out.append(None)
            continue
        try:
            out.append(env.from_string(source).render(**variables))
        except SecurityError as exc:
            raise ValidationFailed.one(f"template.{field}", f"refused by the sandbox: {exc}") from exc
        except TemplateError as exc:
            raise ValidationFailed.one(f"template.{field}", f"cannot render: {exc}") from exc
    rendered_subject = " ".join(
        (out[0] or "").split()
    )  # a template must not smuggle a line break into a header
    return rendered_subject, out[1] or "", out[2]


@dataclass(frozen=True)
class Branding:
    sender_name: str
    logo_url: str | None
    primary_colour: str
    text_colour: str
    footer: str

    @classmethod
    def from_tenant(cls, tenant_name: str, branding: dict[str, Any] | None) -> Branding:
        b = branding or {}

        def colour(*keys: str, default: str) -> str:
            for key in keys:
                value = b.get(key)
                if isinstance(value, str) and HEX_COLOUR.match(value):
                    return value
            return default

        logo = b.get("logo_url")
        sender = b.get("sender_name") or b.get("company_name") or tenant_name
        return cls(
            sender_name=" ".join(str(sender).split())[:120],
            logo_url=logo if isinstance(logo, str) and logo.startswith("https://") else None,
            primary_colour=colour("primary_color", "primary_colour", default="#1f4e79"),
            text_colour=colour("text_color", "text_colour", default="#1a1a1a"),
            footer=str(b.get("footer") or b.get("email_footer") or f"Sent by {sender}"),
        )


_LAYOUT = _html_env.from_string(
    """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:{{ b.text_colour }}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:24px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:6px">
<tr><td style="background:{{ b.primary_colour }};padding:16px 24px;border-radius:6px 6px 0 0">
{% if b.logo_url %}<img src="{{ b.logo_url }}" alt="{{ b.sender_name }}" height="36" style="display:block">
{% else %}<span style="color:#ffffff;font-size:18px;font-weight:bold">{{ b.sender_name }}</span>{% endif %}
</td></tr>
<tr><td style="padding:24px;font-size:15px;line-height:1.5">
<h1 style="font-size:20px;margin:0 0 16px 0;color:{{ b.primary_colour }}">{{ subject }}</h1>
{{ body }}
</td></tr>
<tr><td style="padding:16px 24px;font-size:12px;color:#6b6b6b;border-top:1px solid #e5e5e5">
{{ b.footer }}{% if unsubscribe_url %}<br><a href="{{ unsubscribe_url }}" style="color:#6b6b6b">Unsubscribe</a>{% endif %}
</td></tr></table></td></tr></table></body></html>"""
)


def text_to_html(text: str) -> str:
    from markupsafe import escape

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def wrap(
    *,
    subject: str,
    body_text: str,
    body_html: str | None,
    branding: Branding,
    unsubscribe_url: str | None,
    layout: bool = True,
) -> tuple[str, str]:
    """(text, html) of the final e-mail: the body inside the branded layout (unless the template opted out of it:
    its HTML is then sent as written, with only the footer and unsubscribe link appended), with the unsubscribe
    link."""
    from markupsafe import Markup, escape

    inner = Markup(body_html) if body_html else Markup(text_to_html(body_text))
    if layout:
        html = _LAYOUT.render(subject=subject, body=inner, b=branding, unsubscribe_url=unsubscribe_url)
    else:
        link = f'<br><a href="{escape(unsubscribe_url)}">Unsubscribe</a>' if unsubscribe_url else ""
        html = f'{inner}<p style="font-size:12px;color:#6b6b6b">{escape(branding.footer)}{link}</p>'

    footer = f"\n\n--\n{branding.footer}"
    if unsubscribe_url:
        footer += f"\nUnsubscribe: {unsubscribe_url}"
    return body_text.rstrip() + footer + "\n", html
