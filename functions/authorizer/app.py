"""Lambda REQUEST authorizer: verifies a JWT or an `msk_` API key and hands the principal to the functions.

Returns Deny (not an exception) for bad credentials so API Gateway answers 403; a missing header is
rejected with 'Unauthorized', which API Gateway turns into 401.
"""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.adapters.crypto import API_KEY_PREFIX
from strategist.domain.errors import NotAuthenticated
from strategist.services import verification

log = logging.getLogger("authorizer")


def _policy(
    principal_id: str, effect: str, method_arn: str, context: dict[str, Any] | None = None
) -> dict[str, Any]:
    # Allow the whole API (not just this method) so API Gateway's authorizer cache can be turned on safely:
    # every route still checks role, scope and client itself.
    arn_parts = method_arn.split("/")
    resource = "/".join(arn_parts[:2]) + "/*" if len(arn_parts) >= 2 else method_arn
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": context or {},
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    method_arn = event.get("methodArn", "*")
    header = headers.get("authorization")
    if not header:
        raise Exception("Unauthorized")
    try:
        token = verification.bearer_token(header)
        if token.startswith(API_KEY_PREFIX):
            with bootstrap.unit_of_work() as uow:
                principal = verification.principal_from_api_key(uow, token)
        else:
            principal = verification.principal_from_jwt(bootstrap.key_ring(), bootstrap.settings(), token)
            with bootstrap.unit_of_work() as uow:
                verification.require_current_user(uow, principal)
    except NotAuthenticated as exc:
        log.info("denied: %s", exc.message)
        raise Exception("Unauthorized") from exc
    ctx = principal.to_context()
    return _policy(principal.actor, "Allow", method_arn, ctx)
