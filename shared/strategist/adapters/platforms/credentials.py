"""Stored connection credentials, one pydantic model per platform (the boundary with the encrypted store).

Secrets are ``SecretStr`` so they never appear in logs or reprs; ``to_storage()`` is the one place they are
revealed, for re-encryption after a token refresh.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from strategist.domain.platforms import Platform


def _digits(value: str, *, prefix: str = "") -> str:
    text = str(value).strip()
    if prefix and text.startswith(prefix):
        text = text[len(prefix) :]
    text = text.replace("-", "")
    if not text.isdigit():
        raise ValueError(f"expected a numeric id, got {value!r}")
    return text


class _Credentials(BaseModel, ABC):
    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr | None = None
    #: When the access token stops working (UTC); None = unknown or long-lived.
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @property
    @abstractmethod
    def account_id(self) -> str:
        """The platform's account identifier, normalised (each platform's credentials say which field)."""

    def with_token(
        self, access_token: str, expires_at: datetime | None, refresh_token: str | None = None
    ) -> Self:
        update: dict[str, Any] = {"access_token": SecretStr(access_token), "expires_at": expires_at}
        if refresh_token is not None and "refresh_token" in type(self).model_fields:
            update["refresh_token"] = SecretStr(refresh_token)
        return self.model_copy(update=update)

    def to_storage(self) -> dict[str, Any]:
        """Plain JSON-able dict with secrets revealed, for the encrypted credential store only."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[name] = value
        return out


class GoogleAdsCredentials(_Credentials):
    """Also used for youtube_ads: YouTube campaigns are VIDEO campaigns of a Google Ads customer."""

    customer_id: str
    developer_token: SecretStr
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    login_customer_id: str | None = None

    @field_validator("customer_id")
    @classmethod
    def _cid(cls, value: str) -> str:
        return _digits(value)

    @field_validator("login_customer_id")
    @classmethod
    def _login_cid(cls, value: str | None) -> str | None:
        return None if value in (None, "") else _digits(value)

    @property
    def account_id(self) -> str:
        return self.customer_id


class MetaCredentials(_Credentials):
    """System-user tokens never expire; ~60-day user tokens are exchanged before expiry (app_id/secret)."""

    ad_account_id: str
    access_token: SecretStr
    app_id: str | None = None
    app_secret: SecretStr | None = None

    @field_validator("ad_account_id")
    @classmethod
    def _act(cls, value: str) -> str:
        return _digits(value, prefix="act_")

    @property
    def account_id(self) -> str:
        return self.ad_account_id


class LinkedInCredentials(_Credentials):
    ad_account_id: str
    access_token: SecretStr
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None

    @field_validator("ad_account_id")
    @classmethod
    def _acct(cls, value: str) -> str:
        return _digits(value, prefix="urn:li:sponsoredAccount:")

    @property
    def account_id(self) -> str:
        return self.ad_account_id


class TikTokCredentials(_Credentials):
    """Advertiser tokens are long-lived; refresh-token apps also keep app_id, secret and refresh_token."""

    advertiser_id: str
    access_token: SecretStr
    app_id: str | None = None
    secret: SecretStr | None = None
    refresh_token: SecretStr | None = None

    @field_validator("advertiser_id")
    @classmethod
    def _adv(cls, value: str) -> str:
        return _digits(value)

    @property
    def account_id(self) -> str:
        return self.advertiser_id


PlatformCredentials = GoogleAdsCredentials | MetaCredentials | LinkedInCredentials | TikTokCredentials

CREDENTIAL_MODELS: Mapping[Platform, type[_Credentials]] = {
    Platform.GOOGLE_ADS: GoogleAdsCredentials,
    Platform.YOUTUBE_ADS: GoogleAdsCredentials,
    Platform.META_ADS: MetaCredentials,
    Platform.LINKEDIN_ADS: LinkedInCredentials,
    Platform.TIKTOK_ADS: TikTokCredentials,
}


def parse_credentials(
    platform: Platform | str, data: Mapping[str, Any] | _Credentials
) -> PlatformCredentials:
    """Validate a decrypted credential blob for ``platform`` (raises pydantic.ValidationError)."""
    model = CREDENTIAL_MODELS[Platform(platform)]
    if isinstance(data, model):
        return data  # type: ignore[return-value]
    return model.model_validate(data)  # type: ignore[return-value]
