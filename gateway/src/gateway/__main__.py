"""`python -m gateway`: serve the gateway with uvicorn on IM_GATEWAY_HOST / IM_GATEWAY_PORT
(signing key from IM_GATEWAY_KEY or IM_GATEWAY_KEY_FILE; see gateway.config)."""

from __future__ import annotations

import os
import sys

from im_runtime import logs, tracing
from im_runtime.settings import Settings, SettingsError, _int


def main() -> int:
    import uvicorn

    from gateway.app import VERSION, create_app
    from gateway.config import GatewayConfig

    env = os.environ
    try:
        settings = Settings.from_env(env)
        port = _int(env, "IM_GATEWAY_PORT", 8000, 1, 65535)
        config = GatewayConfig.from_env(env)
        tracing.setup("gateway", VERSION, env)
    except SettingsError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    host = env.get("IM_GATEWAY_HOST") or "127.0.0.1"
    logs.setup(settings.log_level, settings.log_format)
    # uvicorn's access log writes the raw path and query (resident ids, `?q=<name>`); the
    # gateway logs each request by its route template instead (observe.py).
    uvicorn.run(create_app(settings, config), host=host, port=port,
                log_level=settings.log_level.lower(), log_config=None, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
