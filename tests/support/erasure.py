"""An erasure as the platform takes it by default (four eyes): one city administrator
requests it, another approves it. Each `post` of the test clients mints a token for a new
city administrator unless a subject is given, so the two calls are two people."""

from __future__ import annotations

from typing import Any

REQUEST = {"category": "subject_request",
           "reason": "request of the data subject (Art. 17 GDPR)"}


def path(resident: str) -> str:
    return f"/api/v1/residents/{resident}/erasure"


async def request_and_approve(gw: Any, resident: str,
                              body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The approved erasure's status (what the approval answered)."""
    asked = await gw.post(path(resident), body or REQUEST)
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "awaiting_approval", asked.text
    approved = await gw.post(f"{path(resident)}/approve", None)
    assert approved.status_code == 202, approved.text
    assert approved.json()["state"] == "approved", approved.text
    return dict(approved.json())


def request_and_approve_sync(client: Any, resident: str, first: dict[str, str],
                             second: dict[str, str],
                             body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The same with a synchronous httpx client and two admins' headers."""
    asked = client.post(path(resident), json=body or REQUEST, headers=first)
    assert asked.status_code == 202, asked.text
    approved = client.post(f"{path(resident)}/approve", headers=second)
    assert approved.status_code == 202, approved.text
    assert approved.json()["state"] == "approved", approved.text
    return dict(approved.json())
