"""Communications, pure parts: webhook signatures, the SSRF address check, unsubscribe tokens, recipient
classification, header-injection refusal, the sandboxed templates and the status summary."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategist.adapters.crypto import KeyRing, SigningKey
from strategist.adapters.messaging.base import PermanentSendError
from strategist.adapters.messaging.email import OutgoingEmail, build_mime
from strategist.adapters.messaging.webhook import check_target, is_public_ip, sign, verify_signature
from strategist.domain.errors import ValidationFailed
from strategist.services.communications.delivery import summarize
from strategist.services.communications.queue import classify_recipient
from strategist.services.communications.rendering import Branding, check_template, render, wrap
from strategist.services.communications.tokens import make_token, read_token


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200), ts=st.integers(0, 2**33))
def test_signature_verifies_and_any_change_breaks_it(secret: str, body: bytes, ts: int) -> None:
    sig = sign(secret, ts, body)
    assert verify_signature(secret, timestamp=str(ts), body=body, signature=sig, now=ts)
    assert not verify_signature(secret, timestamp=str(ts), body=body + b"x", signature=sig, now=ts)
    assert not verify_signature(secret + "x", timestamp=str(ts), body=body, signature=sig, now=ts)
    assert not verify_signature(secret, timestamp=str(ts + 1), body=body, signature=sig, now=ts)
    assert not verify_signature(secret, timestamp=str(ts), body=body, signature=sig, now=ts + 301)


def test_signature_matches_a_hand_computed_hmac() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert sign("whsec_test", 1700000000, b'{"a":1}') == f"sha256={expected}"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_address_check(address: str, public: bool) -> None:
    assert is_public_ip(address) is public


def test_check_target_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PermanentSendError, match="http"):
        check_target("ftp://example.com/x", resolve=lambda h, p: ["93.184.216.34"])
    with pytest.raises(PermanentSendError, match="credentials"):
        check_target("https://u:p@example.com/x", resolve=lambda h, p: ["93.184.216.34"])
    with pytest.raises(PermanentSendError, match="SSRF"):
        check_target("http://localhost:8080/x", resolve=lambda h, p: ["127.0.0.1"])
    check_target("https://example.com/x", resolve=lambda h, p: ["93.184.216.34"])
    monkeypatch.setenv("COMMUNICATIONS_WEBHOOK_ALLOW_HOSTS", "localhost, 127.0.0.1")
    check_target("http://localhost:8080/x", resolve=lambda h, p: ["127.0.0.1"])


def test_unsubscribe_token_round_trip_rotation_and_tampering() -> None:
    old = KeyRing([SigningKey("k1", "secret-one")])
    rotated = KeyRing([SigningKey("k2", "secret-two"), SigningKey("k1", "secret-one")])
    tenant = uuid.uuid4()
    token = make_token(old, tenant, "email", "a@example.com")
    claim = read_token(rotated, token)
    assert claim is not None and (claim.tenant_id, claim.channel, claim.recipient) == (
        tenant,
        "email",
        "a@example.com",
    )
    _payload, mac = token.split(".")
    forged = make_token(KeyRing([SigningKey("x", "attacker")]), tenant, "email", "b@example.com")
    assert read_token(rotated, forged.split(".")[0] + "." + mac) is None
    assert read_token(rotated, forged) is None
    assert read_token(KeyRing([SigningKey("k3", "other")]), token) is None
    assert read_token(rotated, "garbage") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ops@Example.COM", ("email", "Ops@example.com")),
        ("+1 (415) 555-0100", ("sms", "+14155550100")),
        ("https://hooks.example.com/x", ("webhook", "https://hooks.example.com/x")),
        ("a@b.c\r\nBcc: x@y.z", None),
        ("javascript:alert(1)", None),
        ("12345", None),
    ],
)
def test_classify_recipient(raw: str, expected: tuple[str, str] | None) -> None:
    assert classify_recipient(raw) == expected


def _mail(**kw: str) -> OutgoingEmail:
    base = {"sender_address": "r@agency.example", "sender_name": "Agency", "to": "c@client.example",
            "subject": "Hello", "text": "t", "html": "<p>t</p>"}  # fmt: skip
    return OutgoingEmail(**{**base, **kw})


@pytest.mark.parametrize("field", ["subject", "to", "sender_name"])
def test_header_injection_is_refused_at_the_mime_builder(field: str) -> None:
    with pytest.raises(PermanentSendError, match="line break"):
        build_mime(_mail(**{field: "x@example.com\r\nBcc: victim@example.com"}), {})


def test_mime_has_text_html_and_unsubscribe_headers() -> None:
    raw = build_mime(_mail(unsubscribe_url="https://api.example/u?token=abc"), {}).decode()
    assert "List-Unsubscribe: <https://api.example/u?token=abc>" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert "multipart/alternative" in raw and "text/plain" in raw and "text/html" in raw


def test_templates_are_sandboxed_strict_and_escaped() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_template({"body_text": "Hi {{ nme }}"}, ["name"])
    assert err.value.fields[0].field == "body_text"
    with pytest.raises(ValidationFailed, match="syntax"):
        check_template({"subject": "{% if %}"}, [])
    with pytest.raises(ValidationFailed):
        render(subject="s", body_text="{{ x.__class__.__mro__[1].__subclasses__() }}", body_html=None,
               variables={"x": "a"})  # fmt: skip
    subject, text, html = render(
        subject="CPA {{ v }}\r\nBcc: x@y.z",
        body_text="{{ v }}",
        body_html="<b>{{ v }}</b>",
        variables={"v": "<i>"},
    )
    assert subject == "CPA <i> Bcc: x@y.z" and text == "<i>" and html == "<b>&lt;i&gt;</b>"


def test_branding_refuses_unsafe_values() -> None:
    b = Branding.from_tenant("Agency", {"primary_color": "red;background:url(x)", "logo_url": "http://x/logo.png",
                                        "sender_name": "Acme\r\nBcc: x"})  # fmt: skip
    assert b.primary_colour == "#1f4e79" and b.logo_url is None and "\n" not in b.sender_name
    text, html = wrap(
        subject="S", body_text="a\n\nb <c>", body_html=None, branding=b, unsubscribe_url="https://u/x"
    )
    assert "<p>b &lt;c&gt;</p>" in html and "Unsubscribe: https://u/x" in text


@given(
    st.lists(st.sampled_from(["pending", "sending", "sent", "failed", "suppressed", "uncertain"]), min_size=1)
)
def test_summary_is_consistent(statuses: list[str]) -> None:
    s = summarize(statuses)
    if any(x in {"pending", "sending"} for x in statuses):
        assert s == "sending"
    elif all(x == "suppressed" for x in statuses):
        assert s == "suppressed"
    elif s == "sent":
        assert "sent" in statuses and set(statuses) <= {"sent", "suppressed"}
    elif s == "failed":
        assert "sent" not in statuses and "uncertain" not in statuses
    else:
        assert s == "partially_sent"


def test_a_template_may_opt_out_of_the_layout_but_not_of_the_unsubscribe_link() -> None:
    b = Branding.from_tenant("Agency", {"primary_color": "#123456", "footer": "Agency Ltd"})
    _, html = wrap(subject="S", body_text="t", body_html="<h2>Own</h2>", branding=b, unsubscribe_url="https://u/x",
                   layout=False)  # fmt: skip
    assert html.startswith("<h2>Own</h2>") and "#123456" not in html
    assert 'href="https://u/x"' in html and "Agency Ltd" in html
    _, html = wrap(
        subject="S", body_text="t", body_html="<h2>Own</h2>", branding=b, unsubscribe_url="https://u/x"
    )
    assert "#123456" in html and "<h2>Own</h2>" in html
