"""The Auth API (/oauth/token, /oauth/revoke) and Bearer checks for the Webhook API."""

from __future__ import annotations

import base64
import binascii

from .errors import ApiError
from .models import Account
from .services import Services
from .wire import Request, Response, Router, empty_response, json_response


def _invalid_client() -> ApiError:
    return ApiError(
        401, "invalid_client", body={"error": "invalid_client"}, headers={"WWW-Authenticate": 'Basic realm="myPOS"'}
    )


def register(router: Router) -> None:
    router.add("POST", "/oauth/token", issue_token)
    router.add("POST", "/oauth/revoke", revoke_token)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_id and client_secret from `Authorization: Basic base64(id:secret)` (colon, per RFC 7617)."""
    scheme, _, encoded = request.header("Authorization").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, client_secret = decoded.partition(":")
    return (client_id, client_secret) if colon else None


def authenticated_client(services: Services, request: Request) -> Account:
    credentials = basic_credentials(request)
    with services.db.read() as store:
        account = store.authenticate(*credentials) if credentials else None
    if account is None:
        raise _invalid_client()
    return account


def issue_token(services: Services, request: Request) -> Response:
    account = authenticated_client(services, request)
    fields = request.fields()
    grant_type = fields.get("grant_type")
    if not grant_type:
        raise ApiError(400, "invalid_request", body={"error": "invalid_request"})
    if grant_type != "client_credentials":
        raise ApiError(400, "unsupported_grant_type", body={"error": "unsupported_grant_type"})
    scope = fields.get("scope") or None
    settings = services.settings
    with services.db.write() as store:
        now = services.clock.time()
        token = store.issue_token(account.client_id, str(scope) if scope else None, settings.token_lifetime, now)
    answer: dict[str, object] = {
        "access_token": token.value,
        "token_type": "Bearer",
        "expires_in": settings.token_expires_in,
    }
    if token.scope:
        answer["scope"] = token.scope
    return json_response(200, answer, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def revoke_token(services: Services, request: Request) -> Response:
    account = authenticated_client(services, request)
    token = request.fields().get("token")
    if not token:
        raise ApiError(400, "invalid_request", body={"error": "invalid_request"})
    with services.db.write() as store:
        store.revoke_token(str(token), account.client_id)
    return empty_response(200)


def _invalid_token(message: str, error: str = "invalid_token") -> ApiError:
    return ApiError(401, error, message, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


def bearer_account(services: Services, request: Request) -> Account:
    """The account whose token authorises this Webhook API request, or a 401."""
    scheme, _, value = request.header("Authorization").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _invalid_token("an Authorization: Bearer token is required")
    with services.db.read() as store:
        token = store.tokens.get(value.strip())
        if token is None:
            raise _invalid_token("the access token is unknown")
        if token.revoked:
            raise _invalid_token("the access token has been revoked")
        if not token.is_usable(services.clock.time()):
            raise _invalid_token("the access token has expired")
        if services.settings.require_scope and "webhooks" not in token.scopes:
            raise _invalid_token("the access token was not issued with scope=webhooks", "insufficient_scope")
        return store.accounts[token.client_id]


def claimed_client_id(services: Services, request: Request) -> str | None:
    """Who a request says it is (for the request log), whether or not it authenticates."""
    credentials = basic_credentials(request)
    with services.db.read() as store:
        if credentials is not None:
            return credentials[0] if credentials[0] in store.accounts else None
        scheme, _, value = request.header("Authorization").partition(" ")
        token = store.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        return token.client_id if token is not None else None
