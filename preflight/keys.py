"""The one table of configuration keys shared by workflow.env, the orchestrator and the probe.

Every key has a default, a kind (which decides how it is validated) and whether it feeds the probe.
Probe keys make up `config_identity_hash`: changing one invalidates an earlier readiness artifact,
changing a timeout or an instance type does not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    default: str
    # str · name · int · int+ · float · float+ · bool · list · duration · mode · timeouts · targets · choice:a|b
    # · version · symbols · envnames · modules · names · checkids · lintrules · itypes · price · abspath · region
    # · secrets
    # (`+`: must be > 0; `name`: safe as one path component; the list kinds are comma-separated; see
    # preflight/config.py for each shape)
    kind: str
    probe: bool = False


KEYS: dict[str, Key] = {
    # --- run ---------------------------------------------------------------------------------
    "PROJECT_NAME": Key("default", "name"),
    "TRANSPORT": Key("local", "choice:local|ssm"),
    "RUN_BUDGET_SECONDS": Key("1800", "int+"),
    "TRAIN_RUN_BUDGET_SECONDS": Key("3600", "int+"),
    "TEARDOWN_TIMEOUT_SECONDS": Key("180", "int+"),
    "BOOTSTRAP_TIMEOUT_SECONDS": Key("300", "int+"),
    "DEPS_TIMEOUT_SECONDS": Key("600", "int+"),
    "PROBE_TIMEOUT_SECONDS": Key("240", "int+"),
    "SMOKE_TIMEOUT_SECONDS": Key("600", "int+"),
    "TRAIN_TIMEOUT_SECONDS": Key("1200", "int+"),
    "REPO_DIR": Key("", "str"),
    "REPO_URL": Key("", "str"),
    "REPO_REF": Key("main", "str"),
    "PROJECT_PYTHONPATH": Key("", "str"),
    "PYTHON": Key("python3", "str"),
    "REQUIREMENTS_FILE": Key("requirements.txt", "str"),
    "DEPS_INSTALLER": Key("auto", "choice:auto|uv|pip"),
    "SMOKE_CMD": Key("", "str"),
    "TRAIN_CMD": Key("", "str"),
    "PASS_ENV": Key("", "envnames"),
    # NAME=ssm:/parameter, NAME=secretsmanager:ARN or NAME=file:/path: resolved on the host (ssm: by the
    # bootstrap step with the instance role; local: by the launcher) into the 0600 step environment.
    "SECRETS": Key("", "secrets"),
    "AWS_REGION": Key("", "region"),
    "REQUIRE_PREFLIGHT": Key("", "str"),
    "PREFLIGHT_MAX_AGE": Key("36h", "duration"),
    "RESULTS_KEEP": Key("30", "int+"),
    # --- probe -------------------------------------------------------------------------------
    "PREFLIGHT_IMPORTS": Key("", "modules", True),
    "PREFLIGHT_IMPORT_NAMES": Key("", "names", True),
    "PREFLIGHT_PROJECT_CHECKS": Key("", "targets", True),
    "PREFLIGHT_CAMPAIGN": Key("", "str", True),
    "PREFLIGHT_LINT": Key("on", "choice:on|off", True),
    "PREFLIGHT_LINT_PATHS": Key("", "list", True),
    "PREFLIGHT_LINT_IGNORE": Key("", "lintrules", True),
    "PREFLIGHT_PINS_FILE": Key("requirements.txt", "str", True),
    "PREFLIGHT_PATHS": Key("", "list", True),
    "PREFLIGHT_REQUIRED_ENV": Key("", "envnames", True),
    "PREFLIGHT_S3_BUCKETS": Key("", "list", True),
    "PREFLIGHT_S3_KEYS": Key("", "list", True),
    "ARCTICDB_URI": Key("", "str", True),
    "ARCTICDB_LIBRARY": Key("", "str", True),
    "ARCTICDB_REQUIRED_SYMBOLS": Key("", "list", True),
    "ARCTICDB_MIN_SYMBOLS": Key("1", "int", True),
    "ARCTICDB_FRESHNESS_SYMBOLS": Key("all", "symbols", True),
    "ARCTICDB_MAX_STALENESS": Key("36h", "duration", True),
    "SKYPILOT_CHECK": Key("off", "mode", True),
    "WANDB_CHECK": Key("off", "mode", True),
    "WANDB_VERIFY_ONLINE": Key("false", "bool", True),
    "MIN_PYTHON": Key("3.9", "version", True),
    "MIN_FREE_DISK_GB": Key("1", "float", True),
    "MIN_MEMORY_GB": Key("0.5", "float", True),
    "GPU_CHECK": Key("off", "mode", True),
    "CHECK_TIMEOUT_SECONDS": Key("20", "float+"),
    # entrypoint and imports import the project's third-party stack: torch + transformers took 9-17.5 s
    # warm on a real repo, and a fresh instance reads its root volume lazily from the snapshot (first
    # touches of site-packages are slower still), so these two get their own, larger deadline.
    "IMPORT_TIMEOUT_SECONDS": Key("120", "float+"),
    "CHECK_TIMEOUTS": Key("", "timeouts"),
    "PROBE_DEADLINE_SECONDS": Key("150", "float+"),
    "IGNORE_PREFLIGHT_ERRORS": Key("", "checkids", True),
    "PREFLIGHT_READONLY_ROLE_ARN": Key("", "str", True),
    # --- ssm transport -----------------------------------------------------------------------
    "EC2_AMI_ID": Key("", "str"),
    "EC2_INSTANCE_TYPES": Key("", "itypes"),
    "EC2_SUBNET_IDS": Key("", "list"),
    "EC2_SECURITY_GROUP_IDS": Key("", "list"),
    "EC2_INSTANCE_PROFILE": Key("", "str"),
    "EC2_TRAINING_INSTANCE_PROFILE": Key("", "str"),
    "EC2_ROOT_VOLUME_GB": Key("50", "int+"),
    "EC2_OWNER": Key("", "str"),
    "SPOT_MAX_PRICE": Key("", "price"),
    "MAX_RUNTIME_SECONDS": Key("4200", "int+"),
    "SSM_ONLINE_TIMEOUT_SECONDS": Key("600", "int+"),
    "SSM_DELIVERY_TIMEOUT_SECONDS": Key("120", "int+"),
    "SSM_OUTPUT_S3_BUCKET": Key("", "str"),
    "SSM_CLOUDWATCH_LOG_GROUP": Key("", "str"),
    "REMOTE_WORK_DIR": Key("/opt/spot-preflight", "abspath"),
}

# Paths on the caller's machine: a relative one resolves against the folder of the config file that
# sets it (an environment variable or flag: against the working directory). Paths inside the project
# (REQUIREMENTS_FILE, PREFLIGHT_PINS_FILE, PREFLIGHT_PATHS, PROJECT_PYTHONPATH) are relative to it.
# ARCTICDB_URI counts only as an lmdb:// path (s3:// URIs are left as they are).
PATH_KEYS = ("REPO_DIR", "ARCTICDB_URI")  # ARCTICDB_URI: an lmdb:// path only

# The training project: a run needs one of them (a config that names neither exits 2 saying what to do);
# --plan, which proves a launch and copies nothing, needs neither.
PROJECT_KEYS = ("REPO_DIR", "REPO_URL")

# Keys a transport cannot run without, checked before anything is launched.
REQUIRED_BY_TRANSPORT: dict[str, tuple[str, ...]] = {
    "local": ("REPO_DIR",),
    "ssm": ("EC2_AMI_ID", "EC2_INSTANCE_TYPES", "EC2_SUBNET_IDS", "EC2_INSTANCE_PROFILE", "AWS_REGION"),
}

# Which whole-run budget each step must fit in: preflight-only runs three steps, training runs five.
BUDGET_KEY_OF_STEP = {
    "BOOTSTRAP_TIMEOUT_SECONDS": ("RUN_BUDGET_SECONDS", "TRAIN_RUN_BUDGET_SECONDS"),
    "DEPS_TIMEOUT_SECONDS": ("RUN_BUDGET_SECONDS", "TRAIN_RUN_BUDGET_SECONDS"),
    "PROBE_TIMEOUT_SECONDS": ("RUN_BUDGET_SECONDS", "TRAIN_RUN_BUDGET_SECONDS"),
    "SMOKE_TIMEOUT_SECONDS": ("TRAIN_RUN_BUDGET_SECONDS",),
    "TRAIN_TIMEOUT_SECONDS": ("TRAIN_RUN_BUDGET_SECONDS",),
}
