"""How long a run may last at worst, per mode: the number every outer deadline must exceed.

Before the run budget starts: reading the Step Functions task token (polled until the waiting state
has written it) and the launch plan (its rounds of calls, each under a deadline, the DryRun included).
The run budget covers launch, the SSM online wait and every step (each step gets what is left of
it). Outside it: the artifact fetch after a probe whose output was cut (its own 60 s command, plus
the dispatcher's grace and diagnostics), then teardown (bounded by TEARDOWN_TIMEOUT_SECONDS) and the
bookkeeping: run.json, the cost lookup and the Step Functions report, a handful of AWS calls each
bounded by the client's connect/read timeouts and retries. The SSM agent SIGKILLs the script at
executionTimeout (no trap runs, no teardown, no report), so executionTimeout must exceed this worst
case, and the Step Functions task's TimeoutSeconds must exceed executionTimeout plus the command's
delivery timeout.
"""

from __future__ import annotations

from preflight.aws.plan_calls import PLAN_WORST_S
from preflight.aws.ssm_run import DISPATCH_GRACE_S, MIN_EXECUTION_S
from preflight.config import Config

BOOKKEEPING_S = 120
# The step running when the budget ends may overrun it by the dispatcher's grace, the cancel and
# the diagnostics command that follows a timeout (its own 45 s deadline); a step given less than the
# agent's 5 s floor gets 5 s.
STEP_OVERRUN_S = DISPATCH_GRACE_S + 60 + MIN_EXECUTION_S
# infra_scripts/lib/transport_ssm.sh transport_fetch_artifact: the artifact fetch's own command.
FETCH_TIMEOUT_S = 60
# `python -m preflight.aws sfn-token --wait`: how long the controller waits for the token's parameter.
TOKEN_WAIT_S = 60


def budget_key(mode: str) -> str:
    return "RUN_BUDGET_SECONDS" if mode == "preflight-only" else "TRAIN_RUN_BUDGET_SECONDS"


def worst_case_s(config: Config, mode: str) -> int:
    before = TOKEN_WAIT_S + PLAN_WORST_S
    fetch = FETCH_TIMEOUT_S + STEP_OVERRUN_S
    return int(before + config.int(budget_key(mode)) + STEP_OVERRUN_S + fetch
               + config.int("TEARDOWN_TIMEOUT_SECONDS") + BOOKKEEPING_S)
