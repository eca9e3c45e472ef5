"""How long a run may last at worst, per mode: the number every outer deadline must exceed.

The run budget covers launch, the SSM online wait and every step (each step gets what is left of
it); after it come teardown (bounded by TEARDOWN_TIMEOUT_SECONDS) and the bookkeeping: run.json,
the cost lookup and the Step Functions report, a handful of AWS calls each bounded by the client's
connect/read timeouts and retries. The SSM agent SIGKILLs the script at executionTimeout (no trap
runs, no teardown, no report), so executionTimeout must exceed this worst case, and the Step
Functions task's TimeoutSeconds must exceed executionTimeout plus the command's delivery timeout.
"""

from __future__ import annotations

from preflight.aws.ssm_run import DISPATCH_GRACE_S
from preflight.config import Config

BOOKKEEPING_S = 120
# The step running when the budget ends may overrun it by the dispatcher's grace, the cancel and
# the diagnostics command that follows a timeout (its own 45 s deadline).
STEP_OVERRUN_S = DISPATCH_GRACE_S + 60


def budget_key(mode: str) -> str:
    return "RUN_BUDGET_SECONDS" if mode == "preflight-only" else "TRAIN_RUN_BUDGET_SECONDS"


def worst_case_s(config: Config, mode: str) -> int:
    return (config.int(budget_key(mode)) + STEP_OVERRUN_S + config.int("TEARDOWN_TIMEOUT_SECONDS")
            + BOOKKEEPING_S)
