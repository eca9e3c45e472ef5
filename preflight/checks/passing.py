"""How a variable reaches the steps, said for the transport in use: a remediation that works.

The local transport's steps see only the config and PASS_ENV (HOME is a per-run sandbox, so
`wandb login` there cannot stick); on ssm a credential never travels in the command (SSM keeps its
text), so it comes from SECRETS, resolved on the host. The launcher tells the probe which of the
names it asks about were set in its own shell (names only, never values: PREFLIGHT_LAUNCHER_SET).
"""

from __future__ import annotations

from preflight.model import Context


def set_in_launcher(ctx: Context) -> set[str]:
    return {n.strip() for n in ctx.environ.get("PREFLIGHT_LAUNCHER_SET", "").split(",") if n.strip()}


def how_to_pass(ctx: Context, names: list[str]) -> str:
    shell = sorted(set(names) & set_in_launcher(ctx))
    said = f"{', '.join(shell)} {'is' if len(shell) == 1 else 'are'} set in your shell but not passed: " if shell \
        else ""
    listed = ",".join(names)
    if ctx.config.text("TRANSPORT") == "ssm":
        example = ",".join(f"{n}=ssm:/team/{n.lower()}" for n in names)
        return (f"{said}add SECRETS={example} (SSM Parameter Store or secretsmanager:ARN, read on the host with "
                "the instance role; SSM command history would keep a PASS_ENV value)")
    return f"{said}add PASS_ENV={listed} (the local steps see only the config and PASS_ENV), or SECRETS=NAME=ssm:..."
