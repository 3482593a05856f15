"""E-mail through SES as raw MIME: text and HTML alternatives, attachments read from S3, List-Unsubscribe
(RFC 2369) with one-click unsubscribe (RFC 8058). Headers are built by the stdlib e-mail package, which refuses
CR/LF in header values; addresses and subjects are also checked before they get here."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from strategist.adapters.aws.clients import aws_client
from strategist.adapters.messaging.base import PermanentSendError, SendResult, TransientSendError

#: SES v1 raw message limit.
MAX_RAW_BYTES = 10 * 1024 * 1024
_PERMANENT_SES = {"MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    s3_key: str


@dataclass(frozen=True)
class OutgoingEmail:
    sender_address: str
    sender_name: str
    to: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str | None = None
    delivery_key: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


def _check_header(name: str, value: str) -> None:
    if any(c in value for c in "\r\n\x00"):
        raise PermanentSendError(f"{name} contains a line break (header injection refused)")


def build_mime(mail: OutgoingEmail, attachment_bytes: dict[str, bytes]) -> bytes:
    for name, value in (("to", mail.to), ("subject", mail.subject), ("sender name", mail.sender_name)):
        _check_header(name, value)
    msg = EmailMessage(policy=SMTP)
    local, _, domain = mail.sender_address.partition("@")
    msg["From"] = Address(display_name=mail.sender_name, username=local, domain=domain)
    local_to, _, domain_to = mail.to.rpartition("@")
    msg["To"] = Address(username=local_to, domain=domain_to)
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain=domain or None)
    if mail.delivery_key:
        msg["X-Strategist-Delivery"] = mail.delivery_key
    if mail.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    for att in mail.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(
            attachment_bytes[att.s3_key], maintype=maintype, subtype=subtype, filename=att.filename
        )
    raw = msg.as_bytes()
    if len(raw) > MAX_RAW_BYTES:
        raise PermanentSendError(f"message is {len(raw)} bytes; SES accepts at most {MAX_RAW_BYTES}")
    return raw


def fetch_attachments(bucket: str, attachments: tuple[Attachment, ...]) -> dict[str, bytes]:
    from botocore.exceptions import BotoCoreError, ClientError

    out: dict[str, bytes] = {}
    for att in attachments:
        try:
            out[att.s3_key] = aws_client("s3").get_object(Bucket=bucket, Key=att.s3_key)["Body"].read()
        except BotoCoreError as exc:  # S3 unreachable: nothing was sent yet, so retrying is safe
            raise TransientSendError(f"attachment {att.s3_key}: {type(exc).__name__}: {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404"}:
                raise TransientSendError(f"attachment {att.s3_key} not found in S3") from exc
            raise TransientSendError(f"attachment {att.s3_key}: {code or exc}") from exc
    return out


class SesEmailSender:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def send(self, mail: OutgoingEmail) -> SendResult:
        from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

        raw = build_mime(mail, fetch_attachments(self.bucket, mail.attachments))
        try:
            result = aws_client("ses").send_raw_email(
                Source=mail.sender_address, Destinations=[mail.to], RawMessage={"Data": raw}
            )
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            # No connection was ever made, so SES cannot have the message: safe to retry. (A read timeout or a
            # dropped connection is different: it may have been accepted, and stays 'uncertain'.)
            raise TransientSendError(f"SES unreachable: {type(exc).__name__}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", str(exc))
            if code in _PERMANENT_SES:
                raise PermanentSendError(f"SES {code}: {message}") from exc
            raise TransientSendError(f"SES {code}: {message}") from exc
        return SendResult(result.get("MessageId"))
