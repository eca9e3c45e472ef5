"""SSM agent emulator, installed into the moto server's own process by moto_host.py.

moto stores SSM commands but never runs them, and has no DescribeInstanceInformation. This adds
the smallest faithful stand-in for the agent on each EC2 instance moto launched:

Emulates
- registration: an instance reports PingStatus Online `online_delay_s` after it was first seen
  running (or never, with `never_online`); terminated instances drop out;
- AWS-RunShellScript: the `commands` parameter really runs under bash in a per-instance sandbox
  directory (`<root>/<instance-id>/`, also its HOME), in its own process group; the invocation is
  InProgress while it runs, then Success / Failed with the script's real exit code, stdout and stderr;
  stdout is cut to SSM's first 24,000 characters;
- `executionTimeout`: the script is killed and the invocation ends TimedOut / ExecutionTimedOut;
- instance termination while a script runs: the script is killed, the invocation ends Cancelled /
  Terminated; CancelCommand kills it too;
- InvocationDoesNotExist for the first `missing_invocation_polls` GetCommandInvocation calls;
- capacity errors: RunInstances fails with a chosen error code for chosen `type` or `type/subnet`.

Does not emulate: delivery timeouts, Delayed/Pending states, rate limits, S3 output upload, document
versions, run-as users, plugins other than aws:runShellScript, or a real OS image (the "instance" is
this machine, with the sandbox as its working directory).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SSM_STDOUT_LIMIT = 24000


@dataclass
class Settings:
    online_delay_s: float = 0.3
    never_online: bool = False
    missing_invocation_polls: int = 0
    capacity_errors: dict[str, str] = field(default_factory=dict)


class Emulator:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings()
        self.first_seen: dict[str, float] = {}
        self.polls: dict[str, int] = {}
        self.running: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()

    # --- control -------------------------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        self.settings = Settings(**{**self.settings.__dict__, **changes})
        self.polls.clear()

    def sandbox(self, instance_id: str) -> Path:
        path = self.root / instance_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # --- EC2 view --------------------------------------------------------------------------------
    @staticmethod
    def _instances() -> dict[str, str]:
        from moto.ec2.models import ec2_backends

        states = {}
        for account in ec2_backends.values():
            for backend in account.values():
                for reservation in backend.all_reservations():
                    for instance in reservation.instances:
                        states[instance.id] = instance.state
        return states

    def online(self) -> list[str]:
        if self.settings.never_online:
            return []
        now = time.monotonic()
        ready = []
        for instance_id, state in self._instances().items():
            if state != "running":
                continue
            seen = self.first_seen.setdefault(instance_id, now)
            if now - seen >= self.settings.online_delay_s:
                ready.append(instance_id)
        return ready

    # --- running scripts -----------------------------------------------------------------------
    def start(self, command: Any, invocation: dict[str, Any]) -> None:
        invocation.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1,
                          StandardOutputContent="", StandardErrorContent="")
        script = "\n".join(command.parameters.get("commands", []))
        timeout = float((command.parameters.get("executionTimeout") or ["3600"])[0])
        threading.Thread(target=self._run, args=(command.command_id, invocation, script, timeout),
                         daemon=True).start()

    def _run(self, command_id: str, invocation: dict[str, Any], script: str, timeout: float) -> None:
        instance_id = invocation["InstanceId"]
        home = self.sandbox(instance_id)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
        proc = subprocess.Popen(["bash", "-c", script], cwd=home, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        with self.lock:
            self.running[(command_id, instance_id)] = proc
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [threading.Thread(target=self._pump, args=(proc.stdout, out, invocation), daemon=True),
                   threading.Thread(target=self._pump, args=(proc.stderr, err, None), daemon=True)]
        for reader in readers:
            reader.start()
        status, details = self._watch(proc, instance_id, time.monotonic() + timeout)
        for reader in readers:
            reader.join(timeout=5)
        with self.lock:
            self.running.pop((command_id, instance_id), None)
        invocation.update(StandardOutputContent=b"".join(out).decode(errors="replace")[:SSM_STDOUT_LIMIT],
                          StandardErrorContent=b"".join(err).decode(errors="replace")[:8000])
        code = proc.returncode if status in ("Success", "Failed") else -1
        invocation.update(ResponseCode=code, Status=status, StatusDetails=details)

    def _watch(self, proc: subprocess.Popen[bytes], instance_id: str, deadline: float) -> tuple[str, str]:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                self._kill(proc)
                return "TimedOut", "ExecutionTimedOut"
            if self._instances().get(instance_id) in ("shutting-down", "terminated"):
                self._kill(proc)
                return "Cancelled", "Terminated"
            time.sleep(0.05)
        return ("Success", "Success") if proc.returncode == 0 else ("Failed", "Failed")

    @staticmethod
    def _pump(stream: Any, sink: list[bytes], invocation: dict[str, Any] | None) -> None:
        for chunk in iter(lambda: stream.readline(), b""):
            sink.append(chunk)
            if invocation is not None:
                text = b"".join(sink).decode(errors="replace")
                invocation["StandardOutputContent"] = text[:SSM_STDOUT_LIMIT]

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def cancel(self, command_id: str) -> None:
        with self.lock:
            procs = [p for (cid, _), p in self.running.items() if cid == command_id]
        for proc in procs:
            self._kill(proc)

    def stop_all(self) -> None:
        with self.lock:
            procs = list(self.running.values())
        for proc in procs:
            self._kill(proc)


def install(emulator: Emulator) -> None:
    """Patch moto's SSM and EC2 response classes so the server behaves as described above."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses.instances import InstanceResponse
    from moto.ssm.exceptions import SSMException as RESTError
    from moto.ssm.responses import SimpleSystemManagerResponse as SSM

    original_send, original_get = SSM.send_command, SSM.get_command_invocation
    original_run = InstanceResponse.run_instances

    def send_command(self: Any) -> Any:
        result = original_send(self)
        command = self.ssm_backend._commands[-1]
        for invocation in command.invocations:
            emulator.start(command, invocation)
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
        key = f"{self._get_param('InstanceType')}/{self._get_param('SubnetId')}"
        code = emulator.settings.capacity_errors.get(key) or \
            emulator.settings.capacity_errors.get(str(self._get_param("InstanceType")))
        if code:
            raise EC2ClientError(code, f"emulated: no capacity for {key}")
        return original_run(self)

    SSM.send_command = send_command
    SSM.get_command_invocation = get_command_invocation
    SSM.describe_instance_information = describe_instance_information
    SSM.cancel_command = cancel_command
    InstanceResponse.run_instances = run_instances
