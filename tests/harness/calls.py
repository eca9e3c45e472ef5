"""Every AWS call the tool makes, recorded where it lands: in the moto server, per principal.

The tool names itself in the User-Agent (`app/spot-preflight.launcher` on the controller side,
`app/spot-preflight.probe` on the host: botocore's `user_agent_appid`); moto's Step Functions calls
back with the access key `ak` (moto/stepfunctions/parser/asl/utils/boto_client.py). The harness's
own calls (the test's setup) carry neither and are not recorded. tests/test_iam_offline.py checks
every recorded call against the CloudFormation template's policies.

A record: principal, service (moto's name), operation, params (the request as moto parsed it), and
the tags of the instances the request names (at the time of the call: what IAM's ec2:ResourceTag and
ssm:resourceTag conditions see).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.harness.ec2_host import find

_LOCK = threading.Lock()
CALLS: list[dict[str, Any]] = []
STATE_MACHINE_KEY = "ak"


def _principal(headers: Any, key: str) -> str | None:
    agent = str(headers.get("User-Agent", ""))
    if key == STATE_MACHINE_KEY:
        return "state-machine"
    if "app/spot-preflight.launcher" in agent:
        return "launcher"
    if "app/spot-preflight.probe" in agent:
        return _assumed_role(key) or "instance"
    return None


def _assumed_role(key: str) -> str | None:
    from moto.sts.models import sts_backends

    for account in sts_backends.values():
        for backend in account.values():
            for role in getattr(backend, "assumed_roles", []):
                if role.access_key_id == key:
                    return "role:" + role.role_arn.rsplit("/", 1)[-1]
    return None


def _instance_tags(params: Any) -> dict[str, dict[str, str]]:
    ids: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key.startswith("InstanceId") and value.startswith(("i-", "mi-")):
            ids.append(value)

    walk(params)
    tags = {}
    for instance_id in ids:
        _backend, instance = find(instance_id)
        if instance is not None:
            tags[instance_id] = {t["key"]: t["value"] for t in instance.get_tags()}
    return tags


def record(principal: str, service: str, operation: str, params: Any) -> None:
    entry = {"principal": principal, "service": service, "operation": operation, "params": params,
             "instance_tags": _instance_tags(params)}
    with _LOCK:
        CALLS.append(entry)


def _params(response: Any) -> Any:
    params = getattr(response, "params", None)
    if params:
        return params
    body = getattr(response, "body", None)
    if body and "json" in str(response.headers.get("Content-Type", "")):
        try:
            return json.loads(body)
        except ValueError:
            return {}
    try:
        return response._get_params()
    except Exception:  # a request moto cannot flatten: the operation alone is still recorded
        return {}


def _key(response: Any) -> str:
    """The access key id of the request's SigV4 signature (moto's own reader wants a 20-character key)."""
    match = re.search(r"Credential=([^/,\s]+)/", str(response.headers.get("Authorization", "")))
    return match.group(1) if match else ""


def install() -> None:
    """Record at moto's authorization hooks: every request passes one of them, enforced or not."""
    from moto.core.authorization import ActionAuthenticatorMixin as Auth

    original_normal, original_s3 = Auth._authenticate_and_authorize_normal_action, \
        Auth._authenticate_and_authorize_s3_action

    def normal(self: Any, resource: str = "*") -> None:
        principal = _principal(self.headers, _key(self))
        if principal:
            record(principal, getattr(self, "service_name", "") or "", self._get_action(), _params(self))
        original_normal(self, resource)

    def s3(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        principal = _principal(self.headers, _key(self))
        if principal:
            method = str(self.method).upper()
            if key_name:
                operation = {"HEAD": "HeadObject", "GET": "GetObject", "PUT": "PutObject",
                             "DELETE": "DeleteObject", "POST": "PostObject"}.get(method, method)
            else:
                listing = "ListObjectsV2" if "list-type" in str(getattr(self, "querystring", "")) else "ListObjects"
                operation = {"HEAD": "HeadBucket", "GET": listing, "PUT": "CreateBucket",
                             "DELETE": "DeleteBucket"}.get(method, method)
            record(principal, "s3", operation, {"Bucket": bucket_name, "Key": key_name})
        original_s3(self, bucket_name, key_name)

    Auth._authenticate_and_authorize_normal_action = normal
    Auth._authenticate_and_authorize_s3_action = s3


def dump() -> str:
    with _LOCK:
        return json.dumps(CALLS, default=str)
