"""The EC2 side of the emulated world: what happens to an instance after moto's RunInstances.

moto records instances but boots nothing. This module plays the instance's first minute and its
death, as real EC2 does (sources in the fidelity table of tests/harness/ssm_agent.py):

- user data is what the instance metadata service serves: the RunInstances wire value decoded once.
  cloud-init runs it only when it starts with `#!` (text/x-shellscript); anything else is skipped,
  which is what a doubly base64-encoded script gets;
- the user-data script runs with stand-ins for `systemd-run`, `systemctl` and `shutdown` first on
  PATH, so a watchdog really schedules a power-off, and a power-off really ends the instance:
  moto stop, then terminate when InstanceInitiatedShutdownBehavior=terminate;
- the root volume sits at the AMI's RootDeviceName, at least as large as its snapshot: a mapping at
  another device name is an extra volume, and one smaller than the snapshot is
  InvalidBlockDeviceMapping;
- eventual consistency: a new instance is unknown (InvalidInstanceID.NotFound) to the first
  `not_found_calls` calls of each Describe/Terminate action that name it (each action catches up on
  its own: a DescribeInstances that knows the instance says nothing of DescribeInstanceStatus);
- launch errors: RunInstances fails with a chosen error code for a chosen `type` or `type/subnet`.

One control is no AWS behaviour but the test's: while `held()` is true, a power-off the watchdog
asked for waits (it happens as soon as the hold is lifted), so that a test never depends on its run
ending before the watchdog's short timer on a slow machine.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHIMS = {
    # systemd-run --on-active=Ns [options] CMD...: a transient timer that runs CMD after N seconds.
    "systemd-run": """#!/bin/sh
delay=0
while [ $# -gt 0 ]; do
  case "$1" in --on-active=*) delay="${1#--on-active=}"; delay="${delay%s}" ;; --*) ;; *) break ;; esac
  shift
done
# The unit's command runs on the emulated host: only the emulated systemctl/shutdown, found by their
# basename in this directory, never this machine's own (/usr/bin/systemctl poweroff is real here).
cmd="$(dirname "$0")/$(basename "$1")"
shift
[ -x "$cmd" ] || { echo "emulated systemd-run: no emulated $cmd" >&2; exit 1; }
( sleep "$delay"; "$cmd" "$@" ) >/dev/null 2>&1 &
echo "Running timer as unit: emulated.timer"
""",
    "systemctl": """#!/bin/sh
for arg in "$@"; do [ "$arg" = poweroff ] && : > "$EMULATED_POWEROFF"; done
exit 0
""",
    # shutdown -P +M: power off in M minutes.
    "shutdown": """#!/bin/sh
minutes=0
for arg in "$@"; do case "$arg" in +*) minutes="${arg#+}" ;; esac; done
( sleep $((minutes * 60)); : > "$EMULATED_POWEROFF" ) >/dev/null 2>&1 &
""",
}
GONE = ("shutting-down", "terminated")


def backends() -> list[Any]:
    from moto.ec2.models import ec2_backends

    return [backend for account in ec2_backends.values() for backend in account.values()]


def find(instance_id: str) -> tuple[Any, Any] | tuple[None, None]:
    for backend in backends():
        for reservation in backend.all_reservations():
            for instance in reservation.instances:
                if instance.id == instance_id:
                    return backend, instance
    return None, None


def states() -> dict[str, str]:
    return {i.id: i.state for b in backends() for r in b.all_reservations() for i in r.instances}


class Hosts:
    """Booted instances: their sandboxes, user-data processes and pending power-offs."""

    def __init__(self, root: Path, held: Callable[[], bool] = lambda: False) -> None:
        self.root, self.held = root, held
        self.shims = root / "_shims"
        self.shims.mkdir(parents=True, exist_ok=True)
        for name, text in SHIMS.items():
            (self.shims / name).write_text(text)
            (self.shims / name).chmod(0o755)
        self.user_data: dict[str, subprocess.Popen[bytes]] = {}
        self.fresh: dict[str, int] = {}  # instance → NotFound answers each action gives it first
        self.hidden: dict[tuple[str, str], int] = {}  # (instance, action) → NotFound answers left
        self.lock = threading.Lock()
        threading.Thread(target=self._watch, daemon=True).start()

    def sandbox(self, instance_id: str) -> Path:
        path = self.root / instance_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def boot(self, instance: Any, not_found_calls: int) -> None:
        """What the instance does on its first boot: IMDS user data, and cloud-init's verdict on it."""
        with self.lock:
            self.fresh[instance.id] = not_found_calls
        home = self.sandbox(instance.id)
        delivered = instance.user_data.decode() if instance.user_data is not None else ""
        script = home / "user-data"
        script.write_text(delivered)
        if not delivered.startswith("#!"):
            (home / "cloud-init.log").write_text("Unhandled non-multipart (text/x-not-multipart) userdata\n")
            return
        script.chmod(0o755)
        env = {"PATH": f"{self.shims}:/usr/bin:/bin", "EMULATED_POWEROFF": str(home / ".poweroff")}
        with (home / "cloud-init-output.log").open("wb") as log, self.lock:
            self.user_data[instance.id] = subprocess.Popen([str(script)], cwd=home, env=env, start_new_session=True,
                                                           stdout=log, stderr=subprocess.STDOUT)

    def not_found(self, instance_ids: list[str], action: str) -> str | None:
        """The first named instance `action` does not know yet (each such call uses up one of its misses
        for that action only)."""
        with self.lock:
            for instance_id in instance_ids:
                key = (instance_id, action)
                left = self.hidden.setdefault(key, self.fresh.get(instance_id, 0))
                if left > 0:
                    self.hidden[key] = left - 1
                    return instance_id
        return None

    def _watch(self) -> None:
        while True:
            time.sleep(0.1)
            with self.lock:
                booted = list(self.user_data.items())
            current = states()
            for instance_id, proc in booted:
                poweroff = self.root / instance_id / ".poweroff"
                if poweroff.exists() and not self.held():
                    poweroff.unlink()
                    self.power_off(instance_id)
                elif current.get(instance_id) not in GONE:
                    continue
                self._reap(instance_id, proc)

    @staticmethod
    def power_off(instance_id: str) -> None:
        """An OS-initiated shutdown: the instance stops, or terminates if its launch said so."""
        backend, instance = find(instance_id)
        if backend is None or instance.state in GONE:
            return
        backend.stop_instances([instance_id])
        if instance.instance_initiated_shutdown_behavior == "terminate":
            end(instance_id, "Client.InstanceInitiatedShutdown", "Instance initiated shutdown")

    def _reap(self, instance_id: str, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        with self.lock:
            self.user_data.pop(instance_id, None)

    def stop_all(self) -> None:
        with self.lock:
            booted = list(self.user_data.items())
        for instance_id, proc in booted:
            self._reap(instance_id, proc)


def end(instance_id: str, code: str, message: str = "") -> None:
    """The instance ends with this StateReason, as EC2 reports it (botocore data/ec2/2016-11-15/
    service-2.json, StateReason.Message: Server.SpotInstanceTermination for a reclaim, Client.* for a
    launch that failed, e.g. Client.VolumeLimitExceeded or Client.InternalError for a KMS key)."""
    from moto.ec2.models.instances import StateReason

    backend, instance = find(instance_id)
    if backend is None:
        return
    if instance.state not in GONE:
        backend.terminate_instances([instance_id])
    instance.state_reason = StateReason(f"{code}: {message or code}", code)


def root_device_errors(backend: Any, image_id: str, mappings: list[dict[str, Any]]) -> tuple[str, int, str | None]:
    """(AMI root device name, its snapshot size, an InvalidBlockDeviceMapping message or None)."""
    image = backend.describe_images(ami_ids=[image_id])[0]
    root = image.root_device_name
    snapshot_gb = int(image.block_device_mappings[0]["Ebs"]["VolumeSize"])
    for mapping in mappings:
        size = (mapping.get("Ebs") or {}).get("VolumeSize")
        if mapping.get("DeviceName") == root and size is not None and int(size) < snapshot_gb:
            return root, snapshot_gb, (f"Volume of size {size}GB is smaller than snapshot "
                                       f"'{image.ebs_snapshot.id}', expect size >= {snapshot_gb}GB")
    return root, snapshot_gb, None
