"""The gateway's own settings, read once from the environment (errors name the variable)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.keys import resolve_key
from im_runtime.settings import _float, _int


@dataclass(frozen=True)
class GatewayConfig:
    key: bytes  # HMAC-SHA256 signing key of the bearer tokens
    deadline: float = 0.5  # scatter-gather: answer with what arrived by then
    command_timeout: float = 5.0  # request/reply to the owning service
    discovery_timeout: float = 0.5  # how long one $SRV.INFO round collects answers
    discovery_ttl: float = 3.0  # reuse a discovery for this long
    forget_after: float = 600.0  # a service not seen for this long is no longer expected
    connect_wait: float = 5.0
    # Audit entries are kept this long (IM_RETENTION_GATEWAY_AUDIT, days), checked every
    # IM_RETENTION_INTERVAL seconds like the services' rules.
    audit_days: int = 730
    # A disabled account goes this long after it was disabled (IM_RETENTION_GATEWAY_USERS).
    users_days: int = 1095
    retention_interval: float = 21600.0
    # Sign-in (gateway.signin): a session token lives token_minutes and is refreshed
    # with the HttpOnly cookie; accounts, sessions and deployments are checked again
    # every check_seconds (a disabled user is out within that time); a session ends
    # after session_hours, or idle_minutes without a refresh; lockout_attempts failed
    # sign-ins in a row lock a name for lockout_minutes.
    token_minutes: int = 5
    check_seconds: float = 30.0
    session_hours: int = 10
    idle_minutes: int = 60
    lockout_attempts: int = 5
    lockout_minutes: int = 15

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if env is None else env
        return cls(
            key=resolve_key(env),
            deadline=_int(env, "IM_GATEWAY_DEADLINE_MS", 500, 10, 60_000) / 1000,
            command_timeout=_int(env, "IM_GATEWAY_COMMAND_TIMEOUT_MS", 5000, 50, 120_000) / 1000,
            discovery_timeout=_float(env, "IM_GATEWAY_DISCOVERY_TIMEOUT", 0.5, 0.05, 30.0),
            discovery_ttl=_float(env, "IM_GATEWAY_DISCOVERY_TTL", 3.0, 0.0, 3600.0),
            forget_after=_float(env, "IM_GATEWAY_FORGET_AFTER", 600.0, 0.0, 86400.0),
            audit_days=_int(env, "IM_RETENTION_GATEWAY_AUDIT", 730, 1, 36_500),
            users_days=_int(env, "IM_RETENTION_GATEWAY_USERS", 1095, 1, 36_500),
            retention_interval=_float(env, "IM_RETENTION_INTERVAL", 21600.0, 0.0,
                                      31.0 * 86400),
            token_minutes=_int(env, "IM_GATEWAY_TOKEN_MINUTES", 5, 1, 60),
            check_seconds=_float(env, "IM_GATEWAY_CHECK_SECONDS", 30.0, 0.0, 60.0),
            session_hours=_int(env, "IM_GATEWAY_SESSION_HOURS", 10, 1, 24),
            idle_minutes=_int(env, "IM_GATEWAY_IDLE_MINUTES", 60, 5, 24 * 60),
            lockout_attempts=_int(env, "IM_GATEWAY_LOCKOUT_ATTEMPTS", 5, 1, 100),
            lockout_minutes=_int(env, "IM_GATEWAY_LOCKOUT_MINUTES", 15, 1, 24 * 60),
        )
