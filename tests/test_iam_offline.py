"""Issue 21 items 1-3: every AWS call the tool makes is allowed by the CloudFormation template's policies,
proven offline against the AWS Service Authorization Reference (tests/iam_offline.py says how).

tests/iam_calls.json is the list of calls (per principal, ids masked) that the ssm, plan and Step
Functions tests recorded at the moto server. `test_recorded_calls_are_checked_in` runs last in a
session and fails on a call that is not in it: run the suites with PREFLIGHT_RECORD_IAM_CALLS=1 to add it.
"""

from __future__ import annotations

import json
import os
import re

import botocore.session
import pytest

from tests import iam_offline as iam
from tests.conftest import ROOT

# As the tests' runs configure it: test_ssm_transport reads WANDB_API_KEY from ssm:/team/wandb and
# COMET_API_KEY from Secrets Manager (SECRETS).
PARAMETERS = {"ControllerInstanceId": iam.IDS["controller"], "ControllerRoleName": "controller-role",
              "DefinitionBucket": "definitions", "DataBucketName": "training-data", "DataPrefix": "",
              "SecretParameterNames": "/team/wandb",
              "SecretArns": f"arn:aws:secretsmanager:us-east-1:{iam.ACCOUNT}:secret:comet-key-AbCdEf"}


def stack(**changes: str) -> iam.Stack:
    return iam.Stack(parameters={**PARAMETERS, **changes})


def test_every_call_the_tool_makes_is_allowed_by_the_template():
    calls = iam.checked_in_calls()
    assert {c["principal"] for c in calls} >= {"launcher", "instance", "state-machine"}
    assert iam.denials(stack(), calls) == []


def _run_instances(spot: bool = True) -> dict:
    call = next(c for c in iam.checked_in_calls() if c["operation"] == "RunInstances")
    call = json.loads(json.dumps(call))
    if not spot:
        call["params"].pop("InstanceMarketOptions")
    return call


def test_spot_run_instances_needs_the_spot_instances_request_resource():
    """Item 1: a spot launch is authorized against spot-instances-request too (EC2 user guide)."""
    requests = [str(r) for r in iam.requests(_run_instances(), stack())]
    assert any("spot-instances-request/*" in r for r in requests)
    assert not any("spot-instances-request" in str(r) for r in iam.requests(_run_instances(spot=False), stack()))
    assert iam.denials(stack(), [_run_instances()]) == []


def test_log_tail_grant_matches_a_stream_of_the_step_log_group():
    """Item 2: GetLogEvents is authorized on the stream's ARN, which `${Group.Arn}:log-stream:*` never matches."""
    call = {"principal": "launcher", "service": "logs", "operation": "GetLogEvents", "instance_tags": {},
            "params": {"logGroupName": "spot-preflight-steps",
                       "logStreamName": f"{iam.IDS['command']}/{iam.IDS['instance']}/aws-runShellScript/stdout"}}
    (request,) = iam.requests(call, stack())
    assert request.resource.endswith(":log-group:spot-preflight-steps:log-stream:" + call["params"]["logStreamName"])
    assert iam.denials(stack(), [call]) == []


def test_the_evaluator_denies_what_iam_would():
    """The evaluator itself: a resource outside the pattern, an unmet condition and an explicit Deny all deny."""
    allow = {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "arn:aws:ec2:*:*:instance/*",
             "Condition": {"StringEquals": {"ec2:ResourceTag/Project": "spot-preflight"}}}
    ours = iam.Request("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1",
                       (("ec2:ResourceTag/Project", "spot-preflight"),))
    theirs = iam.Request("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1",
                         (("ec2:ResourceTag/Project", "other"),))
    untagged = iam.Request("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1")
    assert iam.allowed([allow], ours) and not iam.allowed([allow], theirs) and not iam.allowed([allow], untagged)
    assert not iam.allowed([allow, {**allow, "Effect": "Deny", "Condition": {}}], ours)
    assert not iam.allowed([{**allow, "Resource": "arn:aws:ec2:*:*:volume/*"}], ours)
    # NotResource: a Deny of everything but the named resources leaves those to the Allow.
    deny_others = {"Effect": "Deny", "Action": "ec2:TerminateInstances", "NotResource": "arn:aws:ec2:*:*:instance/i-1"}
    other = iam.Request("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-2",
                        (("ec2:ResourceTag/Project", "spot-preflight"),))
    assert iam.allowed([allow, deny_others], ours) and iam.allowed([allow], other)
    assert not iam.allowed([allow, deny_others], other)


def _statements(template: iam.Stack):
    for kind in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, props in template.resources(kind).items():
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            documents += [props["PolicyDocument"]] if "PolicyDocument" in props else []
            for document in documents:
                for statement in document["Statement"]:
                    yield name, statement


def test_every_action_and_condition_key_in_the_template_is_in_the_reference():
    """A misspelt action or a condition key the action never sets would make a statement match nothing."""
    problems = []
    for name, statement in _statements(stack()):
        for action in iam._listify(statement["Action"]):
            if "*" in action:
                continue
            try:
                entry = iam.privilege(action)
            except AssertionError as exc:
                problems.append(f"{name}: {exc}")
                continue
            known = {k.lower() for t in entry["resource_types"].values() for k in t["condition_keys"]}
            known |= {k.lower() for k in iam.reference()[action.split(":")[0]].get("conditions", {})}
            for block in statement.get("Condition", {}).values():
                for key in block:
                    generic = re.sub(r"/.*$", "/${tagkey}", key.lower())
                    if not key.lower().startswith("aws:") and key.lower() not in known and generic not in known:
                        problems.append(f"{name}: {action} never sets the condition key {key}")
    assert problems == []


# Operations the tool calls, found in its source: every one must be among the checked-in calls.
_SERVICES = ("ec2", "ssm", "logs", "iam", "sts", "s3", "stepfunctions", "service-quotas", "sns", "secretsmanager")


def test_every_aws_operation_in_the_source_is_checked():
    session = botocore.session.get_session()
    snake: dict[str, str] = {}
    for service in _SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            snake[re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower().replace("__", "_")] = operation
    used = set()
    for path in (ROOT / "preflight").rglob("*.py"):
        for name in re.findall(r"\.([a-z][a-z0-9_]+)\(", path.read_text()):
            if name in snake and name not in ("get_paginator", "close", "list", "get"):
                used.add(snake[name])
    checked = {c["operation"] for c in iam.checked_in_calls()}
    # Operations whose names only read like API calls in this code base (a dict's .get_... or pathlib's).
    assert used - checked == set(), "the tool calls these, but no recorded call proves the policy allows them"


@pytest.mark.last_in_session
def test_recorded_calls_are_checked_in(moto_harness):
    """Every call the tool made in this session's ssm, plan and Step Functions tests is in tests/iam_calls.json
    (and so proven above). PREFLIGHT_RECORD_IAM_CALLS=1 adds the new ones instead of failing."""
    from tests.conftest import STOPPED_CALLS

    recorded = moto_harness.calls() + STOPPED_CALLS
    controllers = {c["params"]["InstanceIds"][0] for c in recorded
                   if c["principal"] == "state-machine" and c["operation"] == "SendCommand"}
    normalized = iam.unique([iam.normalize(c, controllers) for c in recorded])
    known = iam.checked_in_calls()
    new = [c for c in normalized if c not in [iam.bare(k) for k in known]]
    if os.environ.get("PREFLIGHT_RECORD_IAM_CALLS") == "1":
        iam.CALLS_FILE.write_text(json.dumps({"calls": iam.unique(known + new)}, indent=1, sort_keys=True) + "\n")
        return
    assert new == [], "calls the offline IAM test does not cover yet (rerun with PREFLIGHT_RECORD_IAM_CALLS=1)"


# --- item 17: a stack per project ---------------------------------------------------------------------
_NAMED = ("RoleName", "InstanceProfileName", "TopicName", "LogGroupName", "StateMachineName", "BucketName",
          "ManagedPolicyName", "QueueName", "Name")


def _names(template: iam.Stack) -> set[str]:
    names = set()
    for logical, resource in template.template["Resources"].items():
        if template.exists(logical) and any(k in resource.get("Properties", {}) for k in _NAMED):
            names.add(f"{resource['Type']}:{template.physical_name(logical)}")
    return names


def test_two_projects_in_one_account_share_no_resource_name():
    """Item 17: every name derives from the stack name, so a second project's stack does not collide."""
    assert _names(stack()) and not _names(iam.Stack(name="proj-a", parameters=PARAMETERS)) & \
        _names(iam.Stack(name="proj-b", parameters=PARAMETERS))
    (machine,) = stack().resources("AWS::StepFunctions::StateMachine").values()
    assert machine["DefinitionSubstitutions"]["ConfigPath"] == "workflow.env"
    assert "${ConfigPath}" in iam.ASL.read_text()  # the state machine passes --config


def _s3(principal: str, operation: str, bucket: str, key: str | None = None) -> dict:
    return {"principal": principal, "service": "s3", "operation": operation, "instance_tags": {},
            "params": {"Bucket": bucket, **({"Key": key} if key else {})}}


def test_training_profile_writes_the_output_prefix_and_the_preflight_profile_cannot():
    """Item 17: Saturday's training saves checkpoints with its own profile; the preflight host stays read-only."""
    configured = {"OutputBucketName": "checkpoints", "OutputPrefix": "predictor/"}
    training = iam.Stack(parameters={**PARAMETERS, **configured}, instance_profile="spot-preflight-training")
    preflight = iam.Stack(parameters={**PARAMETERS, **configured})
    save = _s3("instance", "PutObject", "checkpoints", "predictor/ckpt-3.pt")
    assert iam.denials(training, [save, _s3("instance", "HeadBucket", "training-data")]) == []
    assert iam.denials(training, [_s3("instance", "PutObject", "checkpoints", "elsewhere/x")]) != []
    assert iam.denials(preflight, [save]) != []
    launch = _run_instances()
    launch["params"]["IamInstanceProfile"] = {"Name": "spot-preflight-training"}
    assert iam.denials(training, [launch]) == []  # the launcher may pass the training role too


def test_ssm_output_bucket_is_granted_where_configured():
    """Item 17: SSM_OUTPUT_S3_BUCKET: the agent puts step logs with the instance role; the command names the bucket."""
    configured = stack(SsmOutputBucketName="step-logs")
    upload = _s3("instance", "PutObject", "step-logs", "spot-preflight/run-1/probe/stdout")
    send = {"principal": "launcher", "service": "ssm", "operation": "SendCommand",
            "instance_tags": {iam.IDS["instance"]: {"Project": "spot-preflight"}},
            "params": {"DocumentName": "AWS-RunShellScript", "InstanceIds": [iam.IDS["instance"]],
                       "OutputS3BucketName": "step-logs"}}
    assert iam.denials(configured, [upload, send]) == []
    assert iam.denials(stack(), [upload]) != []  # not configured: not granted


@pytest.mark.parametrize("mode, profile", [("preflight-only", "read-only"), ("full", "trainer"),
                                           ("smoke-only", "trainer")])
def test_training_runs_launch_with_the_training_profile(mode, profile):
    """Item 17: the preflight host reads only; smoke and training launch with the profile that may save."""
    from preflight.aws.__main__ import _spec
    from tests.conftest import make_config

    cfg = make_config(TRANSPORT="ssm", EC2_INSTANCE_PROFILE="read-only", EC2_TRAINING_INSTANCE_PROFILE="trainer")
    assert _spec(cfg, "r", mode).instance_profile == profile


def test_a_changed_definition_reaches_the_stack(tmp_path):
    """Item 18: deploy.sh uploads the definition under a key named after its content and deploys with that
    key, so a changed definition is a changed parameter and CloudFormation updates the state machine."""
    import shutil
    import subprocess

    shutil.copytree(ROOT / "infra_scripts", tmp_path / "infra_scripts")
    script = tmp_path / "infra_scripts" / "deploy.sh"

    def deploy() -> str:
        run = subprocess.run([str(script), "proj-a", "defs", "ControllerInstanceId=i-1"], capture_output=True,
                             text=True, env={**os.environ, "DEPLOY_DRY_RUN": "1"}, check=True)
        return run.stdout

    first = deploy()
    key = re.search(r"DefinitionKey=(\S+)", first).group(1)
    assert key.startswith("spot-preflight/proj-a/weekly_training-") and f"s3://defs/{key}" in first
    assert "--stack-name proj-a" in first and "ControllerInstanceId=i-1" in first
    assert deploy() == first  # unchanged: the same key, nothing to update
    asl = tmp_path / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
    asl.write_text(asl.read_text().replace('"HeartbeatSeconds": 300', '"HeartbeatSeconds": 301'))
    assert re.search(r"DefinitionKey=(\S+)", deploy()).group(1) != key


# --- issue 22 item 6: SECRETS, granted exactly ----------------------------------------------------------
def _read(operation: str, where: str) -> dict:
    service, key = ("ssm", "Name") if operation == "GetParameter" else ("secretsmanager", "SecretId")
    return {"principal": "instance", "service": service, "operation": operation, "instance_tags": {},
            "params": {key: where}}


HF = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hf-token-AbCdEf"


@pytest.mark.parametrize("profile", ["spot-preflight-instance", "spot-preflight-training"])
def test_the_instance_reads_exactly_the_configured_secrets(profile: str):
    """Both hosts read the SECRETS the config names and nothing else — though AmazonSSMManagedInstanceCore,
    which they attach, allows ssm:GetParameter on every parameter in the account."""
    configured = iam.Stack(parameters={**PARAMETERS, "SecretParameterNames": "/team/wandb,/team/comet",
                                       "SecretArns": HF}, instance_profile=profile)
    wanted = [_read("GetParameter", "/team/wandb"), _read("GetParameter", "/team/comet"),
              _read("GetSecretValue", HF)]
    assert iam.denials(configured, wanted) == []
    for other in (_read("GetParameter", "/team/other"), _read("GetParameter", "/spot-preflight/task-token/x"),
                  _read("GetSecretValue", HF.replace("hf-token", "db-password"))):
        assert iam.denials(configured, [other]) != [], other
    nothing = iam.Stack(parameters={k: v for k, v in PARAMETERS.items() if k != "SecretParameterNames"},
                        instance_profile=profile)
    assert iam.denials(nothing, [_read("GetParameter", "/team/wandb")]) != []  # none configured: none readable
    core = iam.managed_policy("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")["Statement"]
    assert iam.allowed(core, iam.requests(_read("GetParameter", "/team/other"), nothing)[0]), \
        "the managed policy alone would allow it: the template's Deny is what keeps the secrets exact"


def test_deploy_grants_the_configs_secrets(tmp_path):
    """deploy.sh passes the ConfigPath config's SECRETS as the two parameters, unless they are given."""
    import subprocess

    config = tmp_path / "predictor.env"
    config.write_text("SECRETS=WANDB_API_KEY=ssm:/team/wandb,HF_TOKEN=secretsmanager:hf-token,"
                      f"COMET_API_KEY=secretsmanager:{HF},X=file:/run/x,Y=ssm:plain\n")

    def deploy(*extra: str) -> dict[str, str]:
        """The parameter overrides deploy.sh would pass (DEPLOY_DRY_RUN prints each command shell-quoted)."""
        import shlex

        out = subprocess.run([str(ROOT / "infra_scripts" / "deploy.sh"), "proj-a", "defs",
                              f"ConfigPath={os.path.relpath(config, ROOT)}", *extra], capture_output=True, text=True,
                             env={**os.environ, "DEPLOY_DRY_RUN": "1"}, check=True).stdout
        words = shlex.split(out.splitlines()[-1])
        return dict(w.split("=", 1) for w in words[words.index("--parameter-overrides") + 1:])

    out = deploy()
    assert out["SecretParameterNames"] == "/team/wandb,/plain"
    assert out["SecretArns"] == f"arn:*:secretsmanager:*:*:secret:hf-token-??????,{HF}"
    given = deploy("SecretParameterNames=/only/this")
    assert given["SecretParameterNames"] == "/only/this" and "SecretArns" not in given
    stack_params = {"SecretParameterNames": "/team/wandb,/plain",
                    "SecretArns": f"arn:*:secretsmanager:*:*:secret:hf-token-??????,{HF}"}
    granted = iam.Stack(parameters={**PARAMETERS, **stack_params})
    assert iam.denials(granted, [_read("GetParameter", "/plain"), _read("GetSecretValue", HF),
                                 _read("GetSecretValue", HF.replace("-AbCdEf", "-Zz9Zz9"))]) == []
