"""The emulated AWS the ssm transport is tested against: moto plus what moto does not model.

Installed into the moto server's own process by moto_host.py. moto stores SSM commands but never
runs them, has no DescribeInstanceInformation, boots no instance and is strongly consistent. This
module (the SSM agent and Run Command service) and ec2_host.py (the instance and EC2's edges) add
the smallest faithful stand-in, each behaviour taken from a source that says real AWS does it.

Fidelity table: real behaviour (source) → emulation → test.
T = tests/test_ssm_transport.py, F = tests/test_ssm_faults.py.

 1. UserData: botocore base64-encodes RunInstances UserData itself (botocore/handlers.py
    base64_encode_user_data on before-parameter-build.ec2.RunInstances); IMDS serves it decoded once;
    cloud-init runs it only as a `#!` script, other text is "Unhandled non-multipart userdata".
    → ec2_host.boot decodes moto's stored value once and runs it only if it starts with `#!`.
    → F test_watchdog_user_data_is_a_plain_script, F test_launcher_sigkilled_watchdog_terminates
 2. An OS power-off terminates an instance launched with InstanceInitiatedShutdownBehavior=terminate
    (EC2 user guide, "Change the instance initiated shutdown behavior").
    → shims for systemd-run / systemctl / shutdown on the user data's PATH; power-off → moto stop →
    terminate. → F test_launcher_sigkilled_watchdog_terminates
 3. EC2 is eventually consistent: right after RunInstances, Describe*/TerminateInstances may answer
    InvalidInstanceID.NotFound (EC2 API reference, "Eventual consistency in the Amazon EC2 API").
    → NotFound for the first `not_found_calls` calls of each of DescribeInstances,
    DescribeInstanceStatus and TerminateInstances naming a new instance (each action on its own);
    `terminate_not_found` keeps TerminateInstances answering it.
    → F test_not_found_right_after_launch_is_not_yet_visible, F test_terminate_keeps_answering_not_found_exit_7
 4. The root volume is the AMI's RootDeviceName, never smaller than its snapshot; a mapping at another
    name adds a volume (EC2 user guide, "Block device mappings"; error InvalidBlockDeviceMapping).
    moto's AMIs use /dev/sda1 with a 15 GB snapshot, like Ubuntu's.
    → ec2_host.root_device_errors, and a root volume added when the request maps another name.
    → F test_root_volume_follows_the_ami
 5. RunInstances errors Unsupported, InsufficientFreeAddressesInSubnet, InsufficientInstanceCapacity,
    MaxSpotInstanceCountExceeded, VcpuLimitExceeded (EC2 API reference, "Error codes").
    A DryRun "checks whether you have the required permissions for the action, without actually
    making the request" (EC2 API reference, RunInstances DryRun): no capacity error applies to it.
    → `launch_errors` by `type` or `type/subnet`, never on DryRun. → T test_capacity_fallback_third_candidate_launches,
    F test_unsupported_and_full_subnet_move_on, F test_quota_is_not_capacity
 6. The agent runs aws:runShellScript as `sh -c <_script.sh>` with AWS_SSM_INSTANCE_ID and
    AWS_SSM_REGION_NAME set (amazon-ssm-agent agent/plugins/pluginutil/pluginutil_unix.go
    ShellCommand "sh"; agent/executers/executers.go envVarRegionName).
    → `sh -c` on a written `_script.sh` (dash here), those variables set. → T, every ssm run
 7. At executionTimeout the agent SIGKILLs the process group — no trap runs — and reports TimedOut
    (agent/executers/executers_unix.go killProcess: syscall.Kill(-pid, SIGKILL); executers.go sets
    exit 137). → os.killpg(SIGKILL), TimedOut / ExecutionTimedOut, ResponseCode 137.
    → F test_execution_timeout_is_sigkill_no_trap_runs
 8. A script's own exit 137 is reported TimedOut, 168 Success, 169 Failed (pluginutil_unix.go
    GetStatus; agent/framework/runpluginutil/runpluginutil.go ExitWithSuccess / ExitWithFailure).
    → the same mapping on the script's real exit code. → F test_exit_137_reads_as_a_kill_not_a_timeout
 9. A document and its parameters may be at most 64 KB: MaxDocumentSizeExceeded (botocore
    data/ssm/2014-11-06/service-2.json SendCommand errors: "The size limit of a document is 64 KB").
    → SendCommand rejects Parameters whose JSON is over 65,536 bytes.
    → F test_bootstrap_payload_over_64k_is_sent_in_pieces
10. StandardOutputContent is "the first 24,000 characters written by the plugin to stdout. If the
    command hasn't finished running ... this string is empty" (service-2.json,
    GetCommandInvocationResult.StandardOutputContent); with CloudWatchOutputConfig the output goes to the stream
    `<CommandId>/<InstanceId>/aws-runShellScript/stdout` of the group (user guide, "Configuring
    Amazon CloudWatch Logs for Run Command"). → no stdout before the end; with CloudWatch on, each
    line goes to that stream as it is written. → F test_progress_lines_and_no_output_before_the_end,
    F test_cloudwatch_output_streams_while_the_step_runs, T test_output_over_24000_chars…
10b. With CloudWatchOutputConfig the agent calls CreateLogGroup first (ResourceAlreadyExists is fine);
    on any other error it pages DescribeLogGroups for the group; when neither answers, it sets the
    group name to "" and streams nothing (amazon-ssm-agent agent/framework/processor/executer/iohandler/
    iohandler.go, "Stop CloudWatch Streaming on Error"; agent/agentlogstocloudwatch/
    cloudwatchlogspublisher/cloudwatchlogsservice.go CreateLogGroup, IsLogGroupPresent). Those calls
    are the instance role's. → the same order, each recorded as an instance call (tests/harness/
    calls.py) for the offline IAM test; `logs_denied` names the calls that answer AccessDenied.
    → F test_agent_that_can_neither_create_nor_describe_the_group_streams_nothing,
    tests/test_iam_offline.py (the instance role grants CreateLogGroup and DescribeLogGroups)
10c. "A returned page might only be partially full, or even empty ... As long as the nextForwardToken
    returned is NOT equal to the nextToken that you passed into the API call, there might be more log
    events available"; at the end "it returns the same token you passed in" (botocore
    data/logs/2014-03-28/service-2.json, GetLogEvents, GetLogEventsResponse.nextForwardToken).
    → `logs_page_size` events per page, `logs_empty_pages` empty pages (new token) before each page.
    → F test_cloudwatch_pages_from_the_emulator_are_drained,
    F test_cloudwatch_tail_drains_partial_and_empty_pages_until_the_token_stops,
    F test_tail_access_denied_warns_once_and_falls_back_to_ssm_output,
    F test_failed_step_prints_the_ssm_output_tail_after_the_live_lines
11. An invocation whose instance died stays InProgress — the agent can no longer report — until the
    command expires: "If a command expires, it changes status to DeliveryTimedOut for all invocations
    that have the status InProgress, Pending, or Delayed. ExpiresAfter is calculated based on the
    total timeout" (service-2.json, Command.ExpiresAfter). → the script is killed; the invocation
    stays InProgress until delivery + execution timeout after sending, then TimedOut /
    DeliveryTimedOut. → F test_spot_interruption_mid_step_ends_the_step_at_once
12. Undeliverable / AccessDenied / InvalidPlatform end Failed with ResponseCode -1 ("If the response
    code is -1, then the command hasn't started running on the managed node, or it wasn't received
    by the node", service-2.json GetCommandInvocationResult.ResponseCode); a command no agent picks up
    ends TimedOut / DeliveryTimedOut ("If this time is reached and the command hasn't already started
    running, it won't run", SendCommandRequest.TimeoutSeconds; StatusDetails of
    GetCommandInvocationResult). → `invocation_failure`; `delivery_timeout_after_s` (shortened: the
    command stays Pending that long instead of the full TimeoutSeconds).
    → F test_undeliverable_is_not_checks_failed, F test_delivery_timeout_sends_no_diagnostics
13. GetCommandInvocation may answer InvocationDoesNotExist (service-2.json GetCommandInvocation
    errors) — seen right after SendCommand, before the invocation is registered; that timing is our
    observation, not a documented guarantee. → for the first `missing_invocation_polls` calls.
    → T test_preflight_only_ready_terminated_no_training_no_writes
14. Registration: an instance appears in DescribeInstanceInformation with PingStatus ("Connection
    status of SSM Agent", service-2.json InstanceInformation.PingStatus) once its agent has started
    and reached the SSM endpoints, some time after boot. → Online `online_delay_s` after the instance
    is first seen running, or never (`never_online`). → T test_never_online_exit_4_terminated
15. On the host, SDKs take the instance role's credentials from IMDS (botocore credentials.py
    InstanceMetadataProvider, last in the default chain); nothing credential-bearing needs to be in
    the command, whose text SSM keeps ("ListCommands: Lists the commands requested by users of the
    Amazon Web Services account", service-2.json). → the run passes only AWS_SHARED_CREDENTIALS_FILE,
    a file of moto's keys on the (shared) host disk, by name.
    → T test_preflight_only_ready_terminated_no_training_no_writes (ListCommands holds no secret)
16. ListServiceQuotas(ServiceCode=ec2) pages the account's applied quotas, each with QuotaName,
    QuotaCode and Value; for spot, the vCPUs of one family group named "All <families> Spot Instance
    Requests", P5 its own since it launched (Service Quotas API reference, ListServiceQuotas; EC2 user
    guide, "Spot Instance quotas": vCPU-based, defaults 0 for G/P and 5 for Standard on new accounts).
    moto has neither EC2 quotas nor ListServiceQuotas. → `spot_vcpu_quotas` {code: vCPUs}, listed two
    per page; unset codes are not listed. → tests/test_plan.py test_plan_failure_classes[quota],
    test_p5_has_its_own_spot_quota
17. A first boot has no uv: AL2023 ships Python modules as RPMs built for its system Python 3.9
    (AL2023 user guide, "Python in AL2023"), and uv is a PyPI install; runShellScript runs with the
    host's system PATH. (An assumption about stock AMIs, not a documented guarantee: an AMI with uv
    on PATH takes the other branch, tested in tests/test_installer.py.) → the emulated host runs
    steps with SYSTEM_PATH, never the test runner's PATH, so DEPS_INSTALLER=auto installs the pinned
    uv into REMOTE_WORK_DIR/image/tools/uv with pip and uv builds and fills the venv from the index.
    → F test_steps_run_with_the_system_path, T test_preflight_only_ready_terminated_no_training_no_writes
    (a host directory of its own every time: its bootstrap installs uv there, and deps uses it)
18. An instance that ended carries StateReason.Code: "Server.SpotInstanceTermination: The instance was
    terminated because the number of Spot requests ... exceeded available capacity or because of an
    increase in the Spot price"; Client.* for a launch that failed (Client.VolumeLimitExceeded,
    Client.InternalError — e.g. an unusable KMS key —, Client.InvalidSnapshot.NotFound) or a shutdown
    someone asked for (Client.UserInitiatedShutdown via the API, Client.InstanceInitiatedShutdown from
    the OS) (botocore data/ec2/2016-11-15/service-2.json, StateReason.Message). SendCommand to an
    instance that is shutting down or terminated fails InvalidInstanceId ("Invalid states are:
    Shutting-down and Terminated",
    data/ssm/2014-11-06/service-2.json, InvalidInstanceId). → `end_instance` (a reclaim),
    `boot_failure` (every new instance ends right after launch with that code), the watchdog's power-off
    ends Client.InstanceInitiatedShutdown, SendCommand to a shutting-down/terminated instance raises
    InvalidInstanceId. → F test_spot_reclaim_mid_step_is_its_own_outcome,
    F test_reclaim_before_ssm_online_is_not_unreachable, F test_client_error_after_launch_is_a_launch_problem,
    F test_reclaim_before_a_command_is_sent_is_reported_as_the_reclaim
20. Every API call may fail with a retryable error: "RequestLimitExceeded: The maximum request rate
    permitted by the Amazon EC2 APIs has been exceeded" (EC2 API reference, "Error codes" /
    "Request throttling"), a network error, or a short-lived UnauthorizedOperation while a new role's
    policy propagates (IAM user guide, "Changes that I make are not always immediately visible").
    Filter-based describes are eventually consistent too (row 3). → `terminate_errors`,
    `describe_errors` (with `transient_error`), `tag_lookup_misses`.
    → F test_teardown_retries_any_error_until_the_deadline,
    F test_known_ids_are_terminated_before_the_tag_lookup, F test_without_an_id_the_tag_lookup_repeats,
    F test_teardown_failure_prints_the_manual_commands
21. The agent validates executionTimeout: below 5 or above 172800 seconds it logs "'TimeoutSeconds' value
    should be between 5 and 172800 ... Setting 'TimeoutSeconds' to default value 3600" and uses 3600
    (amazon-ssm-agent agent/plugins/pluginutil/pluginutil.go, minExecutionTimeoutInSeconds = 5,
    ValidateExecutionTimeout). → the same substitution. → F test_a_step_timeout_below_5s_is_floored_at_5s
19. Step Functions: SendTaskFailure keeps its `cause` (botocore data/stepfunctions/2016-11-23/service-2.json,
    SendTaskFailureInput.cause), which moto's response drops: the harness passes it on, so the Notify
    state publishes what AWS would. An execution started without a name gets a generated one (UUID);
    moto leaves $$.Execution.Name null, so tests/test_stepfunctions.py names each execution.
    → tests/test_stepfunctions.py test_an_early_exit_reports_its_reason, test_sfn_task_token_end_to_end…

Not AWS, a harness rule: a fault in the emulator's own code fails the command it was running
(StandardErrorContent "EMULATOR FAULT (tests/harness): <traceback>") instead of leaving it Pending, which a
test would read as the tool's bug. CloudWatch Logs calls of the agent use moto's backend of the default
account, made on first use.

Taken from moto as it is, because moto answers as AWS documents it (botocore data/<service>/*/service-2.json):
- RunInstances with DryRun=True: "If you have the required permissions, the error response is
  DryRunOperation. Otherwise, it is UnauthorizedOperation" (ec2 RunInstancesRequest.DryRun); under
  moto's IAM enforcement a denial reads AccessDenied/AuthFailure, which the plan treats the same.
  → tests/test_plan.py, tests/test_readonly_policy.py test_plan_dry_run_names_a_missing_run_instances_permission
- DescribeInstanceTypeOfferings "lists the instance types that are offered for the specified location"
  (LocationType availability-zone); moto ships per-zone data (no t3 in us-east-1e).
  → tests/test_plan.py test_plan_failure_classes[zone], test_pruned_zone_launches_…
- AssumeRole returns temporary credentials whose policies IAM then enforces (sts AssumeRole;
  DurationSeconds from 900). moto grants AssumeRole even for a role that does not exist, which AWS
  refuses: the failure test uses an unreachable STS endpoint instead.
  → tests/test_readonly_policy.py test_readonly_role_denies_a_write_the_guard_cannot_see
- moto's IAM enforcement ignores policies' Resource and Condition (moto/iam/access_control.py, "TODO add
  support for the Resource and Condition parts of IAM policies"): the launcher-policy test widens its
  copy to Resource "*" and proves the actions only.

Not emulated: Delayed state and retries of delivery, throttling of calls other than Terminate/Describe
(row 20), S3 output upload, document versions, run-as users, plugins other than aws:runShellScript,
reboot on exit 194, spot interruption notices (IMDS, the two-minute warning), IAM evaluation (moto
ignores Resource and Condition: tests/iam_offline.py proves the policies offline instead), KMS for
SecureString parameters, a real OS image (the "instance" is this machine, its sandbox directory is the
working directory).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness.ec2_host import GONE, Hosts, end, root_device_errors, states

SSM_STDOUT_LIMIT = 24000
SSM_DOCUMENT_LIMIT = 64 * 1024
AGENT_KILL_CODE = 137
PLUGIN = "aws-runShellScript"
# Row 17: the agent (a systemd service) runs scripts with the host's system PATH, never the test runner's.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Settings:
    online_delay_s: float = 0.3
    never_online: bool = False
    missing_invocation_polls: int = 0
    launch_errors: dict[str, str] = field(default_factory=dict)
    not_found_calls: int = 0
    terminate_not_found: bool = False
    invocation_failure: str = ""
    delivery_timeout_after_s: float = 0.0
    spot_vcpu_quotas: dict[str, float] = field(default_factory=dict)
    hold_power_off: bool = False  # a test control, not AWS: see ec2_host's docstring
    # Row 10b: the instance role's CloudWatch Logs calls that answer AccessDeniedException.
    logs_denied: list[str] = field(default_factory=list)
    # Row 10c: GetLogEvents pages of at most this many events (0: moto's, everything), and this many
    # empty pages with a new token before each page that has events.
    logs_page_size: int = 0
    logs_empty_pages: int = 0
    # Row 18: every new instance ends right after launch with this StateReason code (Client.*: a launch
    # problem such as Client.VolumeLimitExceeded).
    boot_failure: str = ""
    # Row 20: the first N TerminateInstances / DescribeInstances calls fail with `transient_error`
    # (throttling by default); the first N filter-based DescribeInstances (the RunId tag lookup) omit
    # every instance, as a filter may miss a new instance for a while.
    terminate_errors: int = 0
    describe_errors: int = 0
    transient_error: str = "RequestLimitExceeded"
    tag_lookup_misses: int = 0


@dataclass
class Invocation:
    command_id: str
    instance_id: str
    region: str
    record: dict[str, Any]
    script: str
    timeout_s: float
    delivery_s: float
    log_group: str = ""
    proc: subprocess.Popen[bytes] | None = None
    cancelled: bool = False
    sent_at: float = field(default_factory=time.monotonic)


class Emulator:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings()
        self.hosts = Hosts(root, held=lambda: self.settings.hold_power_off)
        self.first_seen: dict[str, float] = {}
        self.polls: dict[str, int] = {}
        self.running: dict[tuple[str, str], Invocation] = {}
        self.lock = threading.Lock()
        self.failures: dict[str, int] = {}

    def reset(self) -> None:
        self.settings = Settings()

    def configure(self, **changes: Any) -> None:
        self.settings = Settings(**{**self.settings.__dict__, **changes})
        self.polls.clear()
        self.failures: dict[str, int] = {}

    def transient(self, kind: str, budget: int) -> bool:
        """True for the first `budget` calls of this kind since the last configure (row 20)."""
        with self.lock:
            used = self.failures.get(kind, 0)
            self.failures[kind] = used + 1
            return used < budget

    def online(self) -> list[str]:
        if self.settings.never_online:
            return []
        now = time.monotonic()
        ready = []
        for instance_id, state in states().items():
            if state != "running":
                continue
            seen = self.first_seen.setdefault(instance_id, now)
            if now - seen >= self.settings.online_delay_s:
                ready.append(instance_id)
        return ready

    # --- Run Command -------------------------------------------------------------------------------
    def start(self, inv: Invocation) -> None:
        if self.settings.invocation_failure:
            inv.record.update(Status="Failed", StatusDetails=self.settings.invocation_failure, ResponseCode=-1,
                              StandardOutputContent="", StandardErrorContent="")
            return
        inv.record.update(Status="Pending", StatusDetails="Pending", ResponseCode=-1,
                          StandardOutputContent="", StandardErrorContent="")
        target = self._never_delivered if self.settings.delivery_timeout_after_s else self._run
        threading.Thread(target=self._loud, args=(target, inv), daemon=True).start()

    @staticmethod
    def _loud(target: Any, inv: Invocation) -> None:
        """A fault in the emulator itself fails the command, saying so, instead of leaving it Pending until a
        test's deadline (which reads as a tool bug)."""
        import traceback

        try:
            target(inv)
        except Exception:
            inv.record.update(Status="Failed", StatusDetails="Failed", ResponseCode=-1,
                              StandardErrorContent="EMULATOR FAULT (tests/harness): " + traceback.format_exc())

    def _never_delivered(self, inv: Invocation) -> None:
        time.sleep(min(inv.delivery_s, self.settings.delivery_timeout_after_s))
        inv.record.update(Status="TimedOut", StatusDetails="DeliveryTimedOut")

    def _agent_log_group(self, inv: Invocation) -> str:
        """Row 10b: the agent's iohandler creates the group first; on any error but AlreadyExists it asks
        DescribeLogGroups whether the group is there; when neither works it streams nothing."""
        from tests.harness import calls

        if not inv.log_group:
            return ""
        backend = _logs_backend(inv.region)
        calls.record("instance", "logs", "CreateLogGroup", {"logGroupName": inv.log_group})
        if "CreateLogGroup" not in self.settings.logs_denied:
            if inv.log_group not in backend.groups:
                backend.create_log_group(inv.log_group, {})
            return inv.log_group
        calls.record("instance", "logs", "DescribeLogGroups", {"logGroupNamePrefix": inv.log_group})
        if "DescribeLogGroups" not in self.settings.logs_denied and inv.log_group in backend.groups:
            return inv.log_group
        return ""

    def _run(self, inv: Invocation) -> None:
        inv.log_group = self._agent_log_group(inv)
        home = self.hosts.sandbox(inv.instance_id)
        workdir = home / "ssm" / inv.command_id
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "_script.sh").write_text(inv.script)
        (workdir / "_script.sh").chmod(0o700)
        env = {"PATH": SYSTEM_PATH, "HOME": str(home), "LANG": "C.UTF-8",
               "AWS_SSM_INSTANCE_ID": inv.instance_id, "AWS_SSM_REGION_NAME": inv.region}
        inv.proc = subprocess.Popen(["sh", "-c", str(workdir / "_script.sh")], cwd=home, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        inv.record.update(Status="InProgress", StatusDetails="InProgress")
        with self.lock:
            self.running[(inv.command_id, inv.instance_id)] = inv
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [threading.Thread(target=self._pump, args=(inv, inv.proc.stdout, out, "stdout"), daemon=True),
                   threading.Thread(target=self._pump, args=(inv, inv.proc.stderr, err, "stderr"), daemon=True)]
        for reader in readers:
            reader.start()
        verdict = self._watch(inv, time.monotonic() + inv.timeout_s)
        for reader in readers:
            reader.join(timeout=5)
        with self.lock:
            self.running.pop((inv.command_id, inv.instance_id), None)
        if verdict is None:  # the host died: nobody reports; InProgress until the command expires
            expires_in = inv.sent_at + inv.delivery_s + inv.timeout_s - time.monotonic()
            expiry = threading.Timer(max(0.0, expires_in), inv.record.update,
                                     kwargs={"Status": "TimedOut", "StatusDetails": "DeliveryTimedOut"})
            expiry.daemon = True
            expiry.start()
            return
        status, details, code = verdict
        inv.record.update(StandardOutputContent=b"".join(out).decode(errors="replace")[:SSM_STDOUT_LIMIT],
                          StandardErrorContent=b"".join(err).decode(errors="replace")[:8000],
                          ResponseCode=code, Status=status, StatusDetails=details)

    def _watch(self, inv: Invocation, deadline: float) -> tuple[str, str, int] | None:
        assert inv.proc is not None
        while inv.proc.poll() is None:
            if time.monotonic() > deadline:
                self._kill(inv.proc)
                return "TimedOut", "ExecutionTimedOut", AGENT_KILL_CODE
            if inv.cancelled:
                self._kill(inv.proc)
                return "Cancelled", "Cancelled", AGENT_KILL_CODE
            if states().get(inv.instance_id) in GONE:
                self._kill(inv.proc)
                return None
            time.sleep(0.05)
        code = inv.proc.returncode
        if code in (0, 168):
            return "Success", "Success", code
        if code == AGENT_KILL_CODE:
            return "TimedOut", "ExecutionTimedOut", code
        return "Failed", "Failed", code

    def _pump(self, inv: Invocation, stream: Any, sink: list[bytes], kind: str) -> None:
        for chunk in iter(stream.readline, b""):
            sink.append(chunk)
            if inv.log_group:
                self._to_cloudwatch(inv, kind, chunk.decode(errors="replace").rstrip("\n"))

    @staticmethod
    def _to_cloudwatch(inv: Invocation, kind: str, line: str) -> None:
        from tests.harness import calls

        backend = _logs_backend(inv.region)
        stream = f"{inv.command_id}/{inv.instance_id}/{PLUGIN}/{kind}"
        names = {"logGroupName": inv.log_group, "logStreamName": stream}
        if stream not in backend.groups[inv.log_group].streams:
            calls.record("instance", "logs", "CreateLogStream", names)
            backend.create_log_stream(inv.log_group, stream)
        calls.record("instance", "logs", "PutLogEvents", names)
        backend.put_log_events(inv.log_group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def cancel(self, command_id: str) -> None:
        with self.lock:
            for (cid, _), inv in self.running.items():
                if cid == command_id:
                    inv.cancelled = True

    def stop_all(self) -> None:
        with self.lock:
            procs = [inv.proc for inv in self.running.values() if inv.proc is not None]
        for proc in procs:
            self._kill(proc)
        self.hosts.stop_all()


def agent_execution_timeout(parameters: dict[str, Any]) -> float:
    """Row 21: pluginutil.go ValidateExecutionTimeout: outside [5, 172800] the agent uses its default 3600."""
    try:
        value = int(float((parameters.get("executionTimeout") or ["3600"])[0]))
    except ValueError:
        return 3600.0
    return float(value if 5 <= value <= 172800 else 3600)


def _logs_backend(region: str) -> Any:
    """The account's CloudWatch Logs in moto (made on first use: before any logs call, there is none yet)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.logs.models import logs_backends

    return logs_backends[DEFAULT_ACCOUNT_ID][region]


def install(emulator: Emulator) -> None:
    """Patch moto's SSM and EC2 response classes so the server behaves as described above."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.instances import InstanceResponse
    from moto.ssm.exceptions import SSMException as RESTError
    from moto.ssm.responses import SimpleSystemManagerResponse as SSM

    original_send, original_get = SSM.send_command, SSM.get_command_invocation
    original_run = InstanceResponse.run_instances
    original_describe, original_status = InstanceResponse.describe_instances, InstanceResponse.describe_instance_status
    original_terminate = InstanceResponse.terminate_instances
    sending = threading.Lock()  # moto serves requests on threads: keep "the command just stored" ours

    def send_command(self: Any) -> Any:
        parameters = self._get_param("Parameters", {})
        for instance_id in self._get_param("InstanceIds", []) or []:
            if states().get(instance_id) in GONE:  # row 18: a terminated instance is no target
                raise RESTError("InvalidInstanceId", f"emulated: instance {instance_id} is not in a valid state")
        size = len(json.dumps(parameters).encode())
        if size > SSM_DOCUMENT_LIMIT:
            raise RESTError("MaxDocumentSizeExceeded", f"emulated: {size} bytes of parameters, over 64 KB")
        cloudwatch = self._get_param("CloudWatchOutputConfig") or {}
        with sending:
            result = original_send(self)
            command = self.ssm_backend._commands[-1]
        # moto also adds every instance its (empty) Targets filter matches — all of them, terminated
        # ones included; real SSM runs the command only on the InstanceIds it was given.
        wanted = set(self._get_param("InstanceIds", []) or [])
        command.invocations[:] = [r for r in command.invocations if r["InstanceId"] in wanted]
        log_group = cloudwatch.get("CloudWatchLogGroupName", "") if cloudwatch.get("CloudWatchOutputEnabled") else ""
        for record in command.invocations:
            emulator.start(Invocation(
                command.command_id, record["InstanceId"], self.region, record,
                "\n".join(parameters.get("commands", [])),
                agent_execution_timeout(parameters),
                float(self._get_int_param("TimeoutSeconds") or 3600), log_group))
        return result

    def get_command_invocation(self: Any) -> Any:
        command_id = self._get_param("CommandId")
        count = emulator.polls[command_id] = emulator.polls.get(command_id, 0) + 1
        if count <= emulator.settings.missing_invocation_polls:
            raise RESTError("InvocationDoesNotExist", "emulated: invocation not registered yet")
        return original_get(self)

    def describe_instance_information(self: Any) -> Any:
        wanted: set[str] = set()
        for item in self._get_param("Filters", []) or []:
            if item.get("Key") == "InstanceIds":
                wanted |= set(item.get("Values", []))
        online = [i for i in emulator.online() if not wanted or i in wanted]
        return ActionResult({"InstanceInformationList": [
            {"InstanceId": i, "PingStatus": "Online", "PlatformType": "Linux", "AgentVersion": "emulated"}
            for i in online]})

    def cancel_command(self: Any) -> Any:
        emulator.cancel(self._get_param("CommandId"))
        return ActionResult({})

    def run_instances(self: Any) -> Any:
        if str(self._get_param("DryRun")).lower() == "true":
            return original_run(self)  # moto answers DryRunOperation; capacity plays no part in a dry run
        key = f"{self._get_param('InstanceType')}/{self._get_param('SubnetId')}"
        errors = emulator.settings.launch_errors
        code = errors.get(key) or errors.get(str(self._get_param("InstanceType")))
        if code:
            raise EC2ClientError(code, f"emulated: {code} for {key}")
        mappings = self._get_param("BlockDeviceMappings", []) or []
        root, snapshot_gb, problem = root_device_errors(self.ec2_backend, self._get_param("ImageId"), mappings)
        if problem:
            raise EC2ClientError("InvalidBlockDeviceMapping", problem)
        before = set(states())
        result = original_run(self)
        for reservation in self.ec2_backend.all_reservations():
            for instance in reservation.instances:
                if instance.id in before:
                    continue
                if mappings and root not in instance.block_device_mapping:
                    instance.add_block_device(snapshot_gb, root, None, False, True, None, volume_type="gp3")
                emulator.hosts.boot(instance, emulator.settings.not_found_calls)
                if emulator.settings.boot_failure:
                    end(instance.id, emulator.settings.boot_failure)
        return result

    def hiding(self: Any, action: str) -> None:
        ids = self._get_param("InstanceIds", []) or []
        if missing := emulator.hosts.not_found(ids, action):
            raise EC2ClientError("InvalidInstanceID.NotFound", f"The instance ID '{missing}' does not exist")

    def describe_instances(self: Any) -> Any:
        settings = emulator.settings
        if emulator.transient("describe", settings.describe_errors):
            raise EC2ClientError(settings.transient_error, "emulated: transient error")
        if not self._get_param("InstanceIds") and emulator.transient("tag-lookup", settings.tag_lookup_misses):
            return ActionResult({"Reservations": []})  # a filter that does not list the new instance yet
        hiding(self, "DescribeInstances")
        return original_describe(self)

    def describe_instance_status(self: Any) -> Any:
        hiding(self, "DescribeInstanceStatus")
        return original_status(self)

    def terminate_instances(self: Any) -> Any:
        ids = self._get_param("InstanceIds", []) or []
        if emulator.transient("terminate", emulator.settings.terminate_errors):
            raise EC2ClientError(emulator.settings.transient_error, "emulated: transient error")
        if emulator.settings.terminate_not_found and ids:
            raise EC2ClientError("InvalidInstanceID.NotFound", f"The instance ID '{ids[0]}' does not exist")
        hiding(self, "TerminateInstances")
        return original_terminate(self)

    SSM.send_command = send_command
    SSM.get_command_invocation = get_command_invocation
    SSM.describe_instance_information = describe_instance_information
    SSM.cancel_command = cancel_command
    InstanceResponse.run_instances = run_instances
    InstanceResponse.describe_instances = describe_instances
    InstanceResponse.describe_instance_status = describe_instance_status
    InstanceResponse.terminate_instances = terminate_instances
    install_quotas(emulator)
    install_log_pages(emulator)
    install_task_failure_cause()


# Row 16: the spot vCPU quotas as Service Quotas names them (EC2 user guide, "Spot Instance quotas").
# Codes as the account's Service Quotas console shows them; P5's is a stand-in (the tool reads codes
# from ListServiceQuotas and never names one).
SPOT_QUOTAS = {"L-34B43A08": "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
               "L-88CF9481": "All F Spot Instance Requests", "L-3819A6DF": "All G and VT Spot Instance Requests",
               "L-B5D1601B": "All Inf Spot Instance Requests", "L-7212CCBC": "All P4, P3 and P2 Spot Instance Requests",
               "L-P5STANDIN": "All P5 Spot Instance Requests", "L-6B0D517C": "All Trn Spot Instance Requests",
               "L-E3A00192": "All X Spot Instance Requests", "L-85EED4F7": "All DL Spot Instance Requests"}
QUOTA_PAGE = 2  # small pages, so a reader that ignores NextToken misses quotas


def install_quotas(emulator: Emulator) -> None:
    """Row 16: GetServiceQuota and ListServiceQuotas (paginated) answer the configured EC2 spot vCPU quotas;
    a quota with no applied value is not listed ("If the applied quota value is not available for a quota,
    the quota is not retrieved", Service Quotas API reference, ListServiceQuotas)."""
    from moto.servicequotas.responses import ServiceQuotasResponse

    original = ServiceQuotasResponse.get_service_quota

    def quota(code: str) -> dict[str, Any]:
        return {"ServiceCode": "ec2", "QuotaCode": code, "QuotaName": SPOT_QUOTAS.get(code, code), "Unit": "None",
                "Adjustable": True, "Value": emulator.settings.spot_vcpu_quotas[code]}

    def get_service_quota(self: Any) -> Any:
        params = json.loads(self.body or "{}")
        code = params.get("QuotaCode", "")
        if params.get("ServiceCode") == "ec2" and code in emulator.settings.spot_vcpu_quotas:
            return json.dumps({"Quota": quota(code)})
        return original(self)

    def list_service_quotas(self: Any) -> Any:
        params = json.loads(self.body or "{}")
        codes = sorted(emulator.settings.spot_vcpu_quotas) if params.get("ServiceCode") == "ec2" else []
        start = int(params.get("NextToken") or 0)
        page = {"Quotas": [quota(c) for c in codes[start:start + QUOTA_PAGE]]}
        if start + QUOTA_PAGE < len(codes):
            page["NextToken"] = str(start + QUOTA_PAGE)
        return json.dumps(page)

    ServiceQuotasResponse.get_service_quota = get_service_quota
    ServiceQuotasResponse.list_service_quotas = list_service_quotas


def install_log_pages(emulator: Emulator) -> None:
    """Row 10c: "A returned page might only be partially full, or even empty ... As long as the
    nextForwardToken returned is NOT equal to the nextToken that you passed ... there might be more log
    events" (botocore data/logs/2014-03-28/service-2.json, GetLogEvents). Tokens stay opaque: an empty
    page's token is `empty<N>/` before the real one, which the next call strips."""
    from moto.logs.responses import LogsResponse

    original = LogsResponse.get_log_events

    def get_log_events(self: Any) -> Any:
        settings = emulator.settings
        if not (settings.logs_page_size or settings.logs_empty_pages):
            return original(self)
        body = json.loads(self.body or "{}")
        token = body.get("nextToken") or ""
        empties = int(token[5:token.index("/")]) if token.startswith("empty") else 0
        real = token.split("/", 1)[1] if token.startswith("empty") else token
        if empties < settings.logs_empty_pages:
            return json.dumps({"events": [], "nextBackwardToken": "b/0",
                               "nextForwardToken": f"empty{empties + 1}/{real}"})
        events, _backward, forward = self.logs_backend.get_log_events(
            log_group_name=body.get("logGroupName"), log_group_id=body.get("logGroupIdentifier"),
            log_stream_name=body["logStreamName"], start_time=None, end_time=None,
            limit=settings.logs_page_size or None, next_token=real or None, start_from_head=True)
        if not events:  # the end: "it returns the same token you passed in"
            forward = token or forward
        return json.dumps({"events": events, "nextBackwardToken": "b/0", "nextForwardToken": forward})

    LogsResponse.get_log_events = get_log_events


def install_task_failure_cause() -> None:
    """moto's SendTaskFailure drops `cause` (moto/stepfunctions/responses.py); AWS keeps it ("cause: A
    more detailed explanation of the cause of the failure", botocore data/stepfunctions/2016-11-23/
    service-2.json SendTaskFailureInput), and the Notify state publishes it."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                                                    cause=self._get_param("cause"))
        return ActionResult({})

    StepFunctionResponse.send_task_failure = send_task_failure
