"""`python -m gateway`: serve the gateway with uvicorn on IM_GATEWAY_HOST / IM_GATEWAY_PORT."""

from __future__ import annotations

import os
import sys

from im_runtime import logs
from im_runtime.settings import Settings, SettingsError, _float, _int


def main() -> int:
    import uvicorn

    from gateway.app import create_app

    env = os.environ
    try:
        settings = Settings.from_env(env)
        port = _int(env, "IM_GATEWAY_PORT", 8000, 1, 65535)
        timeout = _float(env, "IM_GATEWAY_DISCOVERY_TIMEOUT", 0.5, 0.05, 30.0)
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    host = env.get("IM_GATEWAY_HOST") or "127.0.0.1"
    logs.setup(settings.log_level, settings.log_format)
    uvicorn.run(create_app(settings, discovery_timeout=timeout), host=host, port=port,
                log_level=settings.log_level.lower(), log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
