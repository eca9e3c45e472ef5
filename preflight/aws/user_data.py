"""User data for the spot host: an instance-side watchdog that never blocks boot.

A transient systemd timer (or `shutdown -P +N` where systemd-run is missing) is scheduled and the
script returns at once — a oneshot unit that *waits* for the timer once hung a real bootstrap until
SSM timed out. With InstanceInitiatedShutdownBehavior=terminate, power-off terminates the instance,
so it goes away after MAX_RUNTIME_SECONDS even if the launching machine died.
"""

from __future__ import annotations


def watchdog_script(max_runtime_s: int) -> str:
    minutes = max(1, (max_runtime_s + 59) // 60)
    return (
        "#!/bin/bash\n"
        f"systemd-run --no-block --on-active={int(max_runtime_s)}s --unit=spot-preflight-watchdog "
        "/usr/bin/systemctl poweroff --no-block "
        f"|| shutdown -P +{minutes} 'spot-preflight watchdog' &\n"
        "exit 0\n"
    )
