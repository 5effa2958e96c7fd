"""Settings from the environment, checked once at start with errors that name the variable."""

from __future__ import annotations

import os
import socket
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse


class SettingsError(ValueError):
    pass


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = env.get(name) or default
    for one in raw.split(","):
        parsed = urlparse(one.strip())
        if parsed.scheme not in schemes or not parsed.hostname:
            raise SettingsError(
                f"{name} must be a URL with scheme {' or '.join(schemes)} and a host, got {raw!r}"
            )
    return raw


@dataclass(frozen=True)
class Settings:
    nats_url: str = "nats://127.0.0.1:4222"
    mongo_url: str = "mongodb://127.0.0.1:27017"
    db_prefix: str = "im_"
    instance_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}")
    health_host: str = "127.0.0.1"
    health_port: int = 0  # 0: any free port (announced in the presence metadata)
    # Events one unit of work handles at most (a fetch returns at once with what is
    # pending, so a quiet stream gets small batches); large ones make replays fast.
    batch_size: int = 1024
    # Queries one subscription answers at once, so their database round trips overlap
    # (FastStream handles one at a time otherwise). Commands stay one at a time per
    # instance: in order of arrival (a waiting list is first come, first served), and
    # without commands racing for one document (a course's seats) until they give up.
    query_workers: int = 16
    # Commands one subscription handles at once where its route names an `order_by` key
    # (commands of one key still one at a time, in order).
    command_workers: int = 8
    # Seconds between retention runs (0: never on its own; `im privacy retention` still).
    retention_interval: float = 21600.0
    # Seconds between comparing the in-memory read model with the database (a notice of
    # another instance's commit may be lost while the bus is away); 0: never.
    mirror_resync: float = 300.0
    # Days a handled command's record (its reply) is kept for retries (im_runtime.processed).
    command_record_days: float = 7.0
    max_deliver: int = 5
    retry_backoff: float = 0.5
    ack_wait: float = 30.0
    duplicate_window: float = 600.0
    log_level: str = "INFO"
    log_format: str = "json"
    nats_user: str | None = None
    nats_password: str | None = None
    nats_creds: str | None = None
    # A CA certificate (PEM) to trust for a tls:// NATS URL, e.g. a cluster's own CA
    # (Kubernetes: the nats chart's ca.crt); None: the system's trusted CAs.
    nats_ca: str | None = None
    # Replies, pub-acks and fetched messages arrive on `<prefix>.…`; a NATS user may
    # subscribe only to its own (`_INBOX_<user>`, im_cli.natsauth), so nobody else's
    # replies reach it. Default: from the user; with a creds file, IM_NATS_INBOX_PREFIX.
    nats_inbox_prefix: str | None = None
    # This service's key for the gateway's actor signatures (im_runtime.actors), hex;
    # None: commands' actors are taken as they come (a bus without accounts).
    actor_key: bytes | None = None
    # The secret erasure keys are made with (im_runtime.erasure_keys): the same in every
    # process; None: the legacy hash (a development bus).
    erasure_secret: bytes | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        level = (env.get("IM_LOG_LEVEL") or "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise SettingsError(
                f"IM_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        fmt = env.get("IM_LOG_FORMAT") or "json"
        if fmt not in ("json", "text"):
            raise SettingsError(f"IM_LOG_FORMAT must be json or text, got {fmt!r}")
        prefix = env.get("IM_DB_PREFIX", "im_")
        if not prefix.replace("_", "").isalnum() and prefix != "":
            raise SettingsError(f"IM_DB_PREFIX may hold only letters, digits and _, got {prefix!r}")
        defaults = cls()
        return cls(
            nats_url=_url(env, "IM_NATS_URL", defaults.nats_url, ("nats", "tls", "ws", "wss")),
            mongo_url=_url(env, "IM_MONGO_URL", defaults.mongo_url, ("mongodb", "mongodb+srv")),
            db_prefix=prefix,
            instance_id=env.get("IM_INSTANCE_ID") or defaults.instance_id,
            health_host=env.get("IM_HEALTH_HOST") or defaults.health_host,
            health_port=_int(env, "IM_HEALTH_PORT", 0, 0, 65535),
            batch_size=_int(env, "IM_BATCH_SIZE", defaults.batch_size, 1, 4096),
            query_workers=_int(env, "IM_QUERY_WORKERS", defaults.query_workers, 1, 256),
            command_workers=_int(env, "IM_COMMAND_WORKERS", defaults.command_workers, 1, 256),
            retention_interval=_float(env, "IM_RETENTION_INTERVAL", 21600.0, 0.0, 31.0 * 86400),
            mirror_resync=_float(env, "IM_MIRROR_RESYNC", defaults.mirror_resync, 0.0, 86400.0),
            command_record_days=_float(env, "IM_COMMAND_RECORD_DAYS", 7.0, 0.01, 3650.0),
            max_deliver=_int(env, "IM_MAX_DELIVER", 5, 1, 100),
            retry_backoff=_float(env, "IM_RETRY_BACKOFF", 0.5, 0.0, 300.0),
            ack_wait=_float(env, "IM_ACK_WAIT", 30.0, 1.0, 3600.0),
            duplicate_window=_float(env, "IM_DUPLICATE_WINDOW", 600.0, 1.0, 86400.0),
            log_level=level,
            log_format=fmt,
            nats_user=env.get("IM_NATS_USER") or None,
            nats_password=env.get("IM_NATS_PASSWORD") or None,
            nats_creds=env.get("IM_NATS_CREDS") or None,
            nats_ca=_readable(env, "IM_NATS_CA"),
            nats_inbox_prefix=env.get("IM_NATS_INBOX_PREFIX") or None,
            actor_key=_hex(env, "IM_ACTOR_KEY"),
            erasure_secret=erasure_secret(env),
        )

    @property
    def inbox_prefix(self) -> str | None:
        if self.nats_inbox_prefix:
            return self.nats_inbox_prefix
        return inbox_prefix(self.nats_user) if self.nats_user else None

    def nats_options(self) -> dict[str, object]:
        opts: dict[str, object] = {}
        if self.nats_creds:
            opts["user_credentials"] = self.nats_creds
        elif self.nats_user:
            opts["user"] = self.nats_user
            opts["password"] = self.nats_password or ""
        if self.inbox_prefix:
            opts["inbox_prefix"] = self.inbox_prefix
        if self.nats_ca:
            opts["tls"] = ssl.create_default_context(cafile=self.nats_ca)
        return opts


def inbox_prefix(user: str) -> str:
    """The inbox prefix of a NATS user: the only `_INBOX…` subjects it may subscribe to."""
    return f"_INBOX_{user}"


def erasure_secret(env: Mapping[str, str]) -> bytes | None:
    """IM_ERASURE_SECRET, else the file IM_ERASURE_SECRET_FILE (`im up`: var/erasure.key)."""
    if env.get("IM_ERASURE_SECRET"):
        secret, source = env["IM_ERASURE_SECRET"].encode(), "IM_ERASURE_SECRET"
    elif env.get("IM_ERASURE_SECRET_FILE"):
        path = Path(env["IM_ERASURE_SECRET_FILE"])
        try:
            secret, source = path.read_bytes().strip(), f"IM_ERASURE_SECRET_FILE ({path})"
        except OSError as exc:
            raise SettingsError(f"IM_ERASURE_SECRET_FILE: cannot read {path}: "
                                f"{exc.strerror}") from None
    else:
        return None
    if len(secret) < 32:
        raise SettingsError(f"{source} must hold a secret of at least 32 bytes")
    return secret


def _readable(env: Mapping[str, str], name: str) -> str | None:
    """A file the process must read at start: refused now, by name, not at first connect."""
    path = env.get(name)
    if not path:
        return None
    if not os.access(path, os.R_OK):
        raise SettingsError(f"{name} names {path!r}, which is not a readable file")
    return path


def _hex(env: Mapping[str, str], name: str) -> bytes | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        raise SettingsError(f"{name} must be hexadecimal, got {len(raw)} characters") from None
    if len(key) < 32:
        raise SettingsError(f"{name} must hold at least 32 bytes (64 hex digits)")
    return key
