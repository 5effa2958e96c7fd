"""The signing key of the bearer tokens: IM_GATEWAY_KEY, else the file IM_GATEWAY_KEY_FILE
(default var/gateway.key). The gateway and `im token` resolve it the same way."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from im_runtime.settings import SettingsError

DEFAULT_KEY_FILE = Path("var") / "gateway.key"
MIN_KEY_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash


def key_file(env: Mapping[str, str]) -> Path:
    return Path(env.get("IM_GATEWAY_KEY_FILE") or DEFAULT_KEY_FILE)


def resolve_key(env: Mapping[str, str]) -> bytes:
    if env.get("IM_GATEWAY_KEY"):
        key, source = env["IM_GATEWAY_KEY"].encode(), "IM_GATEWAY_KEY"
    else:
        path = key_file(env)
        try:
            key, source = path.read_bytes().strip(), f"IM_GATEWAY_KEY_FILE ({path})"
        except OSError as exc:
            raise SettingsError(
                f"no token signing key: set IM_GATEWAY_KEY or IM_GATEWAY_KEY_FILE "
                f"(cannot read {path}: {exc.strerror}; `im up` creates it)") from None
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(f"{source} must hold a key of at least {MIN_KEY_BYTES} bytes")
    return key


def ensure_key_file(path: Path) -> Path:
    """Create a random key readable only by its owner (0600) unless the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    return path
