"""SMS through SNS (transactional, so carriers do not treat it as marketing)."""

from __future__ import annotations

from strategist.adapters.aws.clients import aws_client
from strategist.adapters.messaging.base import PermanentSendError, TransientSendError

#: Three concatenated GSM-7 segments; longer texts are cut with an ellipsis rather than split across many.
MAX_SMS_CHARS = 459


def sms_text(subject: str, body: str) -> str:
    text = f"{subject}: {body}".strip() if body else subject
    return text if len(text) <= MAX_SMS_CHARS else text[: MAX_SMS_CHARS - 1] + "…"


class SnsSmsSender:
    def __init__(self, sender_id: str | None = None) -> None:
        self.sender_id = sender_id

    def send(self, phone: str, text: str) -> str | None:
        from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

        attrs = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attrs["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            result = aws_client("sns").publish(PhoneNumber=phone, Message=text, MessageAttributes=attrs)
        except (EndpointConnectionError, ConnectTimeoutError) as exc:  # never connected: nothing sent, retry
            raise TransientSendError(f"SNS unreachable: {type(exc).__name__}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", str(exc))
            if code in {"InvalidParameter", "InvalidParameterValue", "OptedOut"}:
                raise PermanentSendError(f"SNS {code}: {message}") from exc
            raise TransientSendError(f"SNS {code}: {message}") from exc
        return result.get("MessageId")
