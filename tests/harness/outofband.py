"""Changes made behind Pulumi's back, with plain HTTP (not the client under test), like a merchant's clicks."""

from __future__ import annotations

import json
from typing import Any

import requests


class OutOfBand:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.api = base_url.rstrip("/") + "/v1"
        token = requests.post(
            f"{base_url.rstrip('/')}/oauth/token",
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials"},
            timeout=10,
        )
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        response = requests.request(method, self.api + path, headers=self.headers, timeout=10, **kw)
        response.raise_for_status()
        return response.json() if response.content else None

    def create_webhook(self, payload_url: str, secret: str) -> dict[str, Any]:
        return self._call("POST", "/webhooks", data={"payload_url": payload_url, "secret": secret})["webhook"]

    def patch_webhook(self, webhook_id: str, **fields: str) -> dict[str, Any]:
        return self._call("PATCH", f"/webhooks/{webhook_id}", data=fields)["webhook"]

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("DELETE", f"/webhooks/{webhook_id}")

    def event_id(self, name: str) -> str:
        events = self._call("GET", "/events", params={"size": 100})["events"]
        return next(e["id"] for e in events if e["name"] == name)

    def subscribe(self, webhook_id: str, event: str, tids: list[str] | None = None) -> dict[str, Any]:
        data = {"webhook_id": webhook_id, "event_id": self.event_id(event)}
        if tids:
            data["filter"] = json.dumps({"tids": tids})
        return self._call("POST", "/subscriptions", data=data)["subscription"]

    def set_filter(self, subscription_id: str, tids: list[str] | None) -> dict[str, Any]:
        return self._call(
            "PUT", f"/subscriptions/{subscription_id}", data={"filter": json.dumps({"tids": tids}) if tids else ""}
        )["subscription"]

    def delete_subscription(self, subscription_id: str) -> None:
        self._call("DELETE", f"/subscriptions/{subscription_id}")
