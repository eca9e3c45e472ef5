"""`python -m preflight.aws launch|wait-online|run-step|terminate|cost|sfn-report` for the bash side.

Config arrives as the orchestrator's resolved KEY/VALUE pairs (NUL-separated file), so the bash and
Python sides never parse workflow.env twice. Exit codes follow DESIGN.md: 3 no capacity, 4
unreachable, 5 launch/step problem, 7 teardown not confirmed, 8 the spot instance was reclaimed,
124 step timed out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from preflight.config import Config


def read_pairs(path: Path) -> dict[str, str]:
    """The orchestrator's step environment: NUL-terminated KEY=VALUE items."""
    items = (item.partition("=") for item in path.read_bytes().decode().split("\0") if item)
    return {key: value for key, _, value in items}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def instance_profile(cfg: Config, mode: str) -> str:
    """The preflight host's read-only profile, or for smoke and training runs the training profile (which
    may write the project's outputs) when one is configured."""
    training = cfg.values.get("EC2_TRAINING_INSTANCE_PROFILE", "")
    return training if training and mode != "preflight-only" else cfg.text("EC2_INSTANCE_PROFILE")


def _spec(cfg: Config, run_id: str, mode: str) -> Any:
    from preflight.aws.ec2_launch import LaunchSpec

    tags = {"Name": f"spot-preflight-{run_id}", "Project": "spot-preflight", "RunId": run_id,
            "Mode": mode, "Owner": cfg.text("EC2_OWNER") or "unknown"}
    return LaunchSpec(ami=cfg.text("EC2_AMI_ID"), instance_types=cfg.list("EC2_INSTANCE_TYPES"),
                      subnets=cfg.list("EC2_SUBNET_IDS"), security_groups=cfg.list("EC2_SECURITY_GROUP_IDS"),
                      instance_profile=instance_profile(cfg, mode), root_volume_gb=cfg.int("EC2_ROOT_VOLUME_GB"),
                      max_runtime_s=cfg.int("MAX_RUNTIME_SECONDS"), spot_max_price=cfg.text("SPOT_MAX_PRICE"),
                      tags=tags)


def cmd_plan(args: argparse.Namespace) -> int:
    import json

    from preflight.aws.clients import client
    from preflight.aws.plan import make_plan
    from preflight.aws.plan_calls import Clients
    from preflight.report import check_lines, use_color

    cfg = Config(read_pairs(args.env_file), str(args.env_file))
    region = cfg.text("AWS_REGION")
    if (problem := credentials_problem()):  # once, before any call: not seven failures with seven wrong fixes
        _say(f"plan: {problem}")
        return 2
    clients = Clients(client("ec2", region), client("iam", region), client("service-quotas", region))
    plan = make_plan(clients, _spec(cfg, args.run_id, args.mode), args.budget_seconds, cfg.text("SPOT_MAX_PRICE"))
    for line in check_lines([r.to_dict() for r in plan.results], use_color(os.environ, sys.stderr.isatty())):
        _say(line)
    _say(f"plan: {'launch would proceed' if plan.exit_code == 0 else 'launch would fail'}"
         f" · {plan.wall_s:.2f}s")
    args.out.write_text(json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return plan.exit_code


def credentials_problem() -> str:
    """Why boto3's credential chain has nothing, or "" when it has credentials (it makes no AWS call)."""
    import boto3

    try:
        if boto3.session.Session().get_credentials() is not None:
            return ""
    except Exception as exc:  # botocore's ProfileNotFound and the like: the chain itself is misconfigured
        return f"no AWS credentials: {exc}"
    return ("no AWS credentials: boto3 found none (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "~/.aws/credentials, SSO, an instance role); set one up, e.g. `aws configure sso` or "
            "`export AWS_PROFILE=...`, then run --plan again")


def cmd_launch(args: argparse.Namespace) -> int:
    import json

    from preflight.aws.clients import client
    from preflight.aws.ec2_launch import LaunchError, NoCapacity, QuotaExceeded, RootDevice, launch

    cfg = Config(read_pairs(args.env_file), str(args.env_file))
    root, candidates = None, None
    if args.plan:  # launch exactly what the plan proved: its root device, its candidates in its order
        plan = json.loads(args.plan.read_text(encoding="utf-8"))
        root = RootDevice(**plan["root_device"]) if plan.get("root_device") else None
        candidates = [(c["instance_type"], c["subnet"]) for c in plan["candidates"]]
    try:
        instance_id, _itype, _subnet = launch(client("ec2", cfg.text("AWS_REGION")),
                                              _spec(cfg, args.run_id, args.mode), say=_say, root=root,
                                              candidates=candidates)
    except NoCapacity as exc:
        _say(f"launch: {exc}")
        return 3
    except QuotaExceeded as exc:  # the plan's class for a quota: configuration, which no retry fixes
        _say(f"launch failed: {exc}")
        return 2
    except LaunchError as exc:
        _say(f"launch failed: {exc}")
        return 5
    print(instance_id)
    return 0


def cmd_wait_online(args: argparse.Namespace) -> int:
    from preflight.aws.clients import client
    from preflight.aws.ssm_online import Unreachable, wait_online

    try:
        wait_online(client("ec2", args.region), client("ssm", args.region), args.instance_id, args.timeout, _say)
    except Unreachable as exc:
        _say(f"ssm: {exc}")
        return exc.exit_code
    return 0


def cmd_run_step(args: argparse.Namespace) -> int:
    from preflight.aws import ssm_command
    from preflight.aws.clients import client
    from preflight.aws.ssm_run import run_step

    cfg = read_pairs(args.env_file)
    region, delivery_s = cfg["AWS_REGION"], int(cfg["SSM_DELIVERY_TIMEOUT_SECONDS"])
    ssm, ec2 = client("ssm", region), client("ec2", region)
    group = cfg.get("SSM_CLOUDWATCH_LOG_GROUP", "")
    logs = client("logs", region) if group else None
    common = {"work_dir": cfg["REMOTE_WORK_DIR"], "run_id": args.run_id}
    try:
        payload, chunks = None, []
        if args.step == "bootstrap":
            project = None if cfg.get("REPO_URL") else Path(args.project_dir)
            payload = ssm_command.payload(Path(args.tool_root), project, args.lint_seed)
            if args.lint_seed and ssm_command.pieces(payload) > ssm_command.MAX_PAYLOAD_PIECES:
                payload = ssm_command.payload(Path(args.tool_root), project)  # the seed only saves a parse
            chunks = ssm_command.payload_chunks(payload, **common)
        text = ssm_command.build(step=args.step, script=args.script.read_text(), env=cfg, mode=args.mode,
                                 instance_id=args.instance_id, payload_b64=payload, **common)
    except ValueError as exc:
        _say(f"ssm: {exc}")
        return 5
    started = time.monotonic()

    def left(cap: int) -> int:  # the payload pieces share the step's timeout with the step itself
        return max(1, min(cap, int(args.timeout - (time.monotonic() - started))))

    for number, chunk in enumerate(chunks, start=1):
        rc = run_step(ssm, ec2, args.instance_id, chunk, step=f"payload-{number}-of-{len(chunks)}",
                      run_id=args.run_id, timeout_s=left(60), delivery_s=delivery_s)
        if rc != 0:
            _say(f"ssm: sending the payload failed at piece {number} of {len(chunks)}")
            return rc
    return run_step(ssm, ec2, args.instance_id, text, step=args.step, run_id=args.run_id,
                    timeout_s=left(args.timeout), delivery_s=delivery_s,
                    output_bucket=cfg.get("SSM_OUTPUT_S3_BUCKET", ""), logs=logs, log_group=group)


def cmd_command_size(args: argparse.Namespace) -> int:
    """Build every step's command as it will be sent (the payload pieces aside, which are sized by
    construction) and refuse, before launch, the step environment that makes one too large."""
    from preflight.aws import ssm_command

    cfg = read_pairs(args.env_file)
    if args.tool_root:  # the payload: measured before launch, not discovered piece by piece after it
        project = None if cfg.get("REPO_URL") else Path(args.project_dir)
        count = ssm_command.pieces(ssm_command.payload(Path(args.tool_root), project))
        if count > ssm_command.MAX_PAYLOAD_PIECES:
            biggest = ", ".join(f"{name} ({size / 1e6:.1f} MB)" for name, size in
                                ssm_command.largest_entries(project)) if project else "the tool itself"
            _say(f"ssm: the project would travel as {count} commands of 48 KB (over "
                 f"{ssm_command.MAX_PAYLOAD_PIECES}): it holds more than code. Largest entries: {biggest}. "
                 "Move data out of REPO_DIR (read it from S3 on the host) or set REPO_URL to clone on the host")
            return 2
    common = {"work_dir": cfg["REMOTE_WORK_DIR"], "run_id": "r" * 64, "mode": "preflight-only",
              "instance_id": "i-" + "0" * 17}
    prelude = (args.scripts / "prelude.sh").read_text()  # steps_script ships prelude + body
    try:
        for script in sorted(set(args.scripts.glob("*.sh")) - {args.scripts / "prelude.sh"}):
            ssm_command.build(step=script.stem, script=prelude + script.read_text(), env=cfg,
                              payload_b64="A" if script.stem == "bootstrap" else None, **common)
    except ValueError as exc:
        biggest = max(cfg, key=lambda key: len(cfg[key]))
        _say(f"ssm: {exc}; the largest value is {biggest} ({len(cfg[biggest])} bytes)")
        return 2
    return 0


def cmd_terminate(args: argparse.Namespace) -> int:
    from preflight.aws.clients import client
    from preflight.aws.ec2_terminate import TeardownUnconfirmed, teardown

    ec2 = client("ec2", args.region)
    try:
        states = teardown(ec2, sorted(set(args.instance_id)), args.run_id, args.deadline,
                          settle_s=args.settle_seconds, say=_say)
    except TeardownUnconfirmed as exc:
        ids = sorted(set(args.instance_id) | set(exc.states))
        _say(f"terminate: NOT CONFIRMED after {args.deadline:.0f}s: {exc}")
        _say("terminate: finish the job with:")
        if ids:
            _say(f"  aws ec2 terminate-instances --region {args.region} --instance-ids {' '.join(ids)}")
        _say(f"  aws ec2 describe-instances --region {args.region} --filters Name=tag:RunId,Values={args.run_id} "
             "Name=tag:Project,Values=spot-preflight --query 'Reservations[].Instances[].[InstanceId,State.Name]'")
        _say("  (terminate every id still pending or running; the instance's watchdog ends it at MAX_RUNTIME_SECONDS)")
        return 7
    if not states:
        _say("terminate: no instance of this run is alive")
        return 0
    _say("terminate: " + ", ".join(f"{i} {s}" for i, s in states.items()))
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from preflight.aws.clients import client
    from preflight.aws.cost import estimate

    usd, line = estimate(client("ec2", args.region), args.instance_id, args.seconds)
    print(f"{'' if usd is None else usd}\t{line}")
    return 0


def _sfn(region: str) -> tuple[Any, str]:
    """The Step Functions client and the task token. spot_train.sh passes the token to this helper in its
    environment; on the Step Functions path it came from Parameter Store (`sfn-token`), never from the SSM
    command text, which SSM keeps in its command history."""
    from preflight.aws.clients import client

    token = os.environ.get("SFN_TASK_TOKEN", "")
    if not token:
        _say("sfn: SFN_TASK_TOKEN is empty; nothing to report")
        raise SystemExit(2)
    return client("stepfunctions", region), token


def cmd_sfn_token(args: argparse.Namespace) -> int:
    """Print the task token the state machine wrote to a SecureString parameter, then delete the parameter.

    The waiting state writes it just after the command was sent, so it may not exist yet: poll with
    backoff until it does, or `--wait` seconds pass."""
    from preflight.aws.clients import backoff, client, error_code

    ssm = client("ssm", args.region)
    for _ in backoff(time.monotonic() + args.wait, start=0.5, cap=3.0):
        try:
            token = ssm.get_parameter(Name=args.parameter, WithDecryption=True)["Parameter"]["Value"]
        except Exception as exc:
            if error_code(exc) == "ParameterNotFound":
                continue
            _say(f"sfn: cannot read the task token from {args.parameter}: {error_code(exc)}")
            return 1
        try:
            ssm.delete_parameter(Name=args.parameter)
        except Exception as exc:  # the token is dead once the task ends; a leftover is harmless
            _say(f"sfn: could not delete {args.parameter} ({error_code(exc)}); it is overwritten by the next run")
        print(token)
        return 0
    _say(f"sfn: no task token in {args.parameter} after {args.wait:.0f}s; the outcome cannot be reported")
    return 1


def cmd_sfn_report(args: argparse.Namespace) -> int:
    from preflight.aws.sfn_report import report

    report(*_sfn(args.region), args.exit_code, args.summary,
           {"reason": args.reason, "run_id": args.run_id, "mode": args.mode})
    _say(f"sfn: reported exit {args.exit_code} to Step Functions")
    return 0


def cmd_sfn_heartbeat(args: argparse.Namespace) -> int:
    from preflight.aws.sfn_report import heartbeat

    heartbeat(*_sfn(args.region))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m preflight.aws")
    sub = parser.add_subparsers(dest="command", required=True)
    launch = sub.add_parser("launch")
    launch.add_argument("--env-file", type=Path, required=True)
    launch.add_argument("--run-id", required=True)
    launch.add_argument("--mode", required=True)
    launch.add_argument("--plan", type=Path, help="plan.json: launch its candidates with its root device")
    plan = sub.add_parser("plan")
    plan.add_argument("--env-file", type=Path, required=True)
    plan.add_argument("--run-id", required=True)
    plan.add_argument("--mode", required=True)
    plan.add_argument("--budget-seconds", type=float, required=True)
    plan.add_argument("--out", type=Path, required=True)
    online = sub.add_parser("wait-online")
    online.add_argument("--region", required=True)
    online.add_argument("--instance-id", required=True)
    online.add_argument("--timeout", type=float, required=True)
    step = sub.add_parser("run-step")
    for name in ("--env-file", "--script"):
        step.add_argument(name, type=Path, required=True)
    for name in ("--instance-id", "--step", "--run-id", "--mode", "--tool-root", "--project-dir"):
        step.add_argument(name, required=True)
    step.add_argument("--timeout", type=int, required=True)
    step.add_argument("--lint-seed", type=Path, default=None, help="bootstrap: ship the launcher's lint facts")
    size = sub.add_parser("command-size")
    size.add_argument("--env-file", type=Path, required=True)
    size.add_argument("--scripts", type=Path, required=True)
    size.add_argument("--tool-root", default="", help="with --project-dir: measure the bootstrap payload too")
    size.add_argument("--project-dir", default="")
    term = sub.add_parser("terminate")
    term.add_argument("--region", required=True)
    term.add_argument("--run-id", required=True)
    term.add_argument("--instance-id", action="append", default=[])
    term.add_argument("--deadline", type=float, default=180.0)
    term.add_argument("--settle-seconds", type=float, default=0.0,
                      help="look the RunId tag up again for this long (the launcher may have lost an id)")
    cost = sub.add_parser("cost")
    cost.add_argument("--region", required=True)
    cost.add_argument("--instance-id", required=True)
    cost.add_argument("--seconds", type=float, required=True)
    sfn = sub.add_parser("sfn-report")
    sfn.add_argument("--exit-code", type=int, required=True)
    sfn.add_argument("--summary", required=True)
    sfn.add_argument("--reason", default="", help="why the run ended, for an early exit that has no summary")
    sfn.add_argument("--run-id", default="")
    sfn.add_argument("--mode", default="")
    sfn.add_argument("--region", required=True)
    token = sub.add_parser("sfn-token")
    token.add_argument("--parameter", required=True)
    token.add_argument("--region", required=True)
    token.add_argument("--wait", type=float, default=60.0)
    beat = sub.add_parser("sfn-heartbeat")
    beat.add_argument("--region", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"launch": cmd_launch, "plan": cmd_plan, "wait-online": cmd_wait_online, "run-step": cmd_run_step,
                "command-size": cmd_command_size, "terminate": cmd_terminate, "cost": cmd_cost,
                "sfn-report": cmd_sfn_report, "sfn-heartbeat": cmd_sfn_heartbeat, "sfn-token": cmd_sfn_token}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
