"""The first account of a new platform: `im up` creates the city admin `admin` with a
one-time password, printed once, when the gateway's database holds no user yet."""

from __future__ import annotations

from datetime import timedelta

FIRST_ADMIN = "admin"


async def first_admin(mongo_url: str) -> str | None:
    """On a platform without any user: the account `admin` (city admin) with a one-time
    password, which is returned to be printed once; None when users exist already (or the
    database cannot say: `im users add` is then the way)."""
    from pymongo.errors import PyMongoError

    from gateway import accounts, useradmin
    from gateway.accounts import NewUser
    from gateway.errors import ApiError
    from im_runtime.settings import Settings, SettingsError

    try:
        prefix = Settings.from_env().db_prefix
    except SettingsError:
        return None
    client, db = accounts.connect(mongo_url, prefix)
    try:
        users = accounts.Accounts(db, attempts=5, lockout=timedelta(minutes=15))
        if await db[accounts.USERS].find_one({}) is not None:
            return None
        issued = await useradmin.add(users, NewUser(username=FIRST_ADMIN, role="city_admin",
                                                    name="City administrator"))
        return issued.password
    except (PyMongoError, ApiError):
        return None
    finally:
        await client.close()
