"""Which commands' actors a service believes: those the gateway vouches for.

A command carries its actor (who asks, with which role) in its body. The body alone
proves nothing: anyone who can put bytes on a command subject could claim to be a
`city_admin` — and on NATS that is more than the users allowed to publish there, since
the server delivers a JetStream fetch to whatever reply subject the fetch names. So the
gateway signs each command: an HMAC over the command subject and the whole body (the
actor, the command id, every field) with a key of the *receiving* service, derived from
the gateway's secret. A service holds only its own key: it can check what the gateway
sends it, but cannot sign a command for another service.

The signature travels in the `Im-Actor-Signature` header as `<unix time>.<hex mac>`; a
service refuses a command without one, or with one that does not match, or older than
`WINDOW` seconds (a retry within the window is the same command, idempotent by its id).
A service without a key (`IM_ACTOR_KEY` unset: a bus without accounts, as in
development) takes actors as they come.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from contracts import ErrorReply

HEADER = "Im-Actor-Signature"
WINDOW = 300.0  # seconds a signature stays good (clock skew plus the gateway's retries)
_ENC = msgspec.json.Encoder()


def key_env(service: str) -> str:
    """Where deployments keep one service's key (`.env`, the Secret `im-actor-keys`)."""
    return "IM_ACTOR_KEY_" + re.sub(r"[^A-Za-z0-9]", "_", service).upper()


def service_key(secret: bytes, service: str) -> bytes:
    """The key of one service, derived from the gateway's secret."""
    return hmac.new(secret, b"im-actor\x00" + service.encode(), hashlib.sha256).digest()


def _mac(key: bytes, at: int, subject: str, body: bytes) -> str:
    signed = f"{at}\n{subject}\n".encode() + hashlib.sha256(body).digest()
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def sign(key: bytes, subject: str, body: bytes, now: float | None = None) -> str:
    at = int(time.time() if now is None else now)
    return f"{at}.{_mac(key, at, subject, body)}"


def signed_headers(secret: bytes, service: str, subject: str, body: bytes) -> dict[str, str]:
    return {HEADER: sign(service_key(secret, service), subject, body)}


def refusal(key: bytes, subject: str, body: bytes, signature: str | None,
            now: float | None = None) -> str | None:
    """Why the command's actor is not believed, or None when the gateway signed it."""
    if not signature:
        return "the command's actor is not signed by the gateway"
    at_text, _, mac = signature.partition(".")
    if not at_text.isdigit() or not mac:
        return "the command's actor signature is malformed"
    at = int(at_text)
    if abs((time.time() if now is None else now) - at) > WINDOW:
        return "the command's actor signature has expired"
    if not hmac.compare_digest(mac, _mac(key, at, subject, body)):
        return "the command's actor signature does not match this command"
    return None


def from_jetstream(msg: Any) -> bool:
    """Whether JetStream delivered `msg` (its reply subject is an acknowledgement). On a
    core subscription (a command, a query, an erasure request as it goes out) such a
    message was put there by a consumer's delivery subject, a fetch's reply or a push
    consumer's `deliver_subject`, which nats-server checks against no permission of the
    one who asked: nobody allowed to publish there sent it, whatever its body says. Every
    request and announcement the platform sends is a core publish (or a JetStream publish,
    whose reply is the publisher's inbox), never a delivery."""
    return str(getattr(msg, "reply", "") or "").startswith("$JS.ACK.")


class ActorCheck:
    """The check of one command route: `subject` is the route's own subject, not the one a
    message arrives with (a fetched message keeps its stream subject)."""

    def __init__(self, key: bytes, subject: str) -> None:
        self.key, self.subject = key, subject

    def refused(self, headers: Mapping[str, str] | None, body: bytes) -> bytes | None:
        """The error reply for a command whose actor is not vouched for, else None."""
        why = refusal(self.key, self.subject, body, (headers or {}).get(HEADER))
        if why is None:
            return None
        return _ENC.encode(ErrorReply(code="unauthorised", message=why))


def main(argv: list[str]) -> int:
    """`python -m im_runtime.actors NAME...`: each service's key (`IM_ACTOR_KEY_<NAME>=…`,
    for `.env` or a Secret), derived from the gateway's key in IM_GATEWAY_KEY."""
    secret = os.environ.get("IM_GATEWAY_KEY", "").encode()
    if len(secret) < 32 or not argv:
        print("usage: IM_GATEWAY_KEY=... python -m im_runtime.actors SERVICE...",
              file=sys.stderr)
        return 2
    for service in argv:
        print(f"{key_env(service)}={service_key(secret, service).hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
