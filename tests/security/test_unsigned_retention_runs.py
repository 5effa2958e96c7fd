"""Attack: a retention run sent to a service without the gateway's signature, with an
`as_of` years ahead, so that it removes everything its rules cover. Services with an actor
key refuse `apply_retention` unsigned like any command; the admin's `im privacy retention
--apply` therefore signs it with the gateway's key (as `im demo` does), and before it did
not: on a stack with actor keys (`im up`) every service refused the operations team's
own retention run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from im_cli import natsauth
from im_cli.privacy import CLI_ACTOR, apply_all
from support.attack import Stack

LATER = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.mark.flow
async def test_a_retention_run_is_applied_only_when_signed(stack: Stack) -> None:
    async with stack.services("housing"), stack.as_user(natsauth.ADMIN) as admin:
        runs, errors = await apply_all(admin.nc, LATER, CLI_ACTOR, 5.0)
        assert "housing" not in runs
        assert errors["housing"].startswith("unauthorised: the command's actor is not "
                                            "signed"), errors
        runs, errors = await apply_all(admin.nc, LATER, CLI_ACTOR, 5.0, stack.secret)
        assert "housing" not in errors, errors
        assert runs["housing"]["service"] == "housing"
