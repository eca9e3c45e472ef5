"""`preflight` command line: probe · verify · demo-seed · config. Exit 0 ready, 1 failed, 2 usage.

Imports stay inside the subcommands so `--help` and the bash orchestrator's config calls cost
nothing but the standard library.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from preflight import __version__
from preflight.config import Config, ConfigError, load, validate_for_run

USAGE, CONFIG_ERROR = 2, 2
END_OF_PAIRS = "__END__"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"preflight {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    probe = sub.add_parser("probe", help="run every enabled check and emit the readiness artifact")
    probe.add_argument("--config", type=Path, help="workflow.env to read (default: environment only)")
    probe.add_argument("--out", type=Path, help="also write the artifact to this file (atomically)")
    probe.add_argument("--json", action="store_true", help="print only the artifact as JSON")
    probe.add_argument("--emit-framed", action="store_true", help="print the artifact between marker lines")
    probe.add_argument("--run-id", default=os.environ.get("PREFLIGHT_RUN_ID"))
    probe.add_argument("--mode", default=os.environ.get("PREFLIGHT_MODE", "probe"))
    probe.add_argument("--ignore-preflight-errors", default="",
                       help="comma-separated check ids (or all) whose failures become warnings")

    campaign = sub.add_parser("campaign", help="readiness preflight for an ml-metaoptimization campaign")
    campaign.add_argument("--campaign", type=Path, required=True, help="the campaign YAML")
    campaign.add_argument("--cwd", type=Path, default=Path("."), help="the project root (default .)")
    campaign.add_argument("--json", action="store_true", help="print only the artifact as JSON")

    verify = sub.add_parser("verify", help="0 when the artifact is fresh and READY, 1 FAILED, 6 unusable")
    verify.add_argument("artifact", type=Path)
    verify.add_argument("--campaign", type=Path, help="verify a campaign readiness artifact against this campaign")
    verify.add_argument("--max-age", help="e.g. 6h (default: PREFLIGHT_MAX_AGE)")
    verify.add_argument("--config", type=Path, help="compare the artifact's config hash with this config")

    seed = sub.add_parser("demo-seed", help="create the embedded demo ArcticDB store")
    seed.add_argument("--config", type=Path)
    seed.add_argument("--uri", help="default: ARCTICDB_URI from the config")
    seed.add_argument("--rows", type=int, default=48)
    seed.add_argument("--stale", action="append", default=[], metavar="SYMBOL:AGE",
                      help="write SYMBOL with its last row AGE old (e.g. CL:5d)")

    unframe = sub.add_parser("unframe", help="cut the framed artifact out of a step log (exit 6 if absent)")
    unframe.add_argument("log", type=Path)
    unframe.add_argument("--out", type=Path, required=True)

    config = sub.add_parser("config", help="resolve workflow.env for the orchestrator")
    config.add_argument("--config", type=Path, required=True)
    config.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    config.add_argument("--for-run", action="store_true", help="also validate transport keys and timeouts")
    config.add_argument("--format", choices=("nul", "env", "identity-hash"), default="nul")
    return parser


def _base_dir() -> str:
    return os.environ.get("PREFLIGHT_BASE_DIR") or os.getcwd()


def _checks_with_guard(config: Config, guard_log: str) -> tuple[list[Any], list[str]]:
    """Every check under the read-only guard, user code in guarded children; (results, refused)."""
    from preflight.checks import build_checks
    from preflight.guard import ReadOnlyGuard, read_log
    from preflight.model import Context
    from preflight.runner import run_checks

    ctx = Context(config=config, environ=dict(os.environ), base_dir=_base_dir(), guard_log=guard_log)
    with ReadOnlyGuard(guard_log) as guard:
        results = run_checks(build_checks(ctx), config.float("PROBE_DEADLINE_SECONDS"))
    return results, guard.refused + read_log(guard_log)[0]


def _probe_results(config: Config, guard_log: str) -> list[Any]:
    from preflight import readonly
    from preflight.guard import read_log

    role = config.text("PREFLIGHT_READONLY_ROLE_ARN")
    if role:
        from preflight.aws.readonly_role import apply, assume

        try:  # before the guard: AssumeRole is not a read, and it is ours, not the project's
            probe_s = max(config.float("PROBE_TIMEOUT_SECONDS"), config.float("PROBE_DEADLINE_SECONDS"))
            apply(os.environ, assume(role, config.text("AWS_REGION"), probe_seconds=probe_s))
        except Exception as exc:  # noqa: BLE001 - any failure means no hard guarantee: run nothing
            return [readonly.role_failure(role, f"{type(exc).__name__}: {exc}")]
    results, refused = _checks_with_guard(config, guard_log)
    user_code = any((r.id == "imports" or r.id.startswith("project:")) and r.status != "skip" for r in results)
    results.append(readonly.verdict(refused, read_log(guard_log)[1], user_code, role))
    return results


def cmd_probe(args: argparse.Namespace, config: Config) -> int:
    import tempfile

    from preflight import artifact as art
    from preflight.report import render, use_color
    from preflight.runner import apply_ignores, stragglers

    run_id = args.run_id or datetime.now(timezone.utc).strftime("probe-%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="preflight-guard-") as tmp:
        results = _probe_results(config, str(Path(tmp) / "guard.log"))
    ignored = config.list("IGNORE_PREFLIGHT_ERRORS") + [x for x in args.ignore_preflight_errors.split(",") if x]
    results = apply_ignores(results, ignored)
    late = stragglers()
    artifact = art.build(
        results, run_id=run_id, mode=args.mode, identity_hash=config.identity_hash(),
        runtime_config_hash=art.runtime_hash(config.text("PREFLIGHT_PINS_FILE")),
        duration_s=time.monotonic() - started, environ=os.environ,
        diagnostics={"tool_version": __version__, "config_source": config.source, "ignored": ignored,
                     "checks_still_running": late, "cwd": os.getcwd()})
    if args.out:
        art.write_atomic(artifact, args.out)
    if args.json:
        print(art.to_json(artifact))
    else:
        print(render(artifact, use_color(os.environ, sys.stdout.isatty())))
    if args.emit_framed:
        print(art.frame(artifact))
    code = 0 if artifact["status"] == "READY" else 1
    if late:  # a hung check's thread (or ArcticDB's own threads) must not keep the probe alive
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _verify_campaign(args: argparse.Namespace, max_age: float) -> int:
    from preflight.campaign import spec
    from preflight.campaign.verify import verify_campaign

    try:
        campaign = spec.load(args.campaign)
    except spec.CampaignUsageError as exc:
        print(f"preflight verify: {exc}", file=sys.stderr)
        return USAGE
    code, reason = verify_campaign(args.artifact, campaign, max_age)
    print(reason, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_verify(args: argparse.Namespace, config: Config) -> int:
    from preflight.durations import parse_duration
    from preflight.verify import find_config, verify

    if args.campaign:
        try:
            return _verify_campaign(args, parse_duration(args.max_age or config.text("PREFLIGHT_MAX_AGE")))
        except ValueError as exc:
            print(f"preflight verify: --max-age: {exc}", file=sys.stderr)
            return USAGE
    binding = args.config
    if binding is None:
        binding = find_config(args.artifact)
        if binding is not None:
            config = load(binding, os.environ)
    try:
        max_age = parse_duration(args.max_age or config.text("PREFLIGHT_MAX_AGE"))
    except ValueError as exc:
        print(f"preflight verify: --max-age: {exc}", file=sys.stderr)
        return USAGE
    code, reason = verify(args.artifact, max_age, config.identity_hash() if binding else None)
    bound = (f"config binding checked against {binding}" if binding else
             "config binding not checked (no --config, and no workflow.env above the artifact)")
    print(f"{reason}; {bound}", file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_campaign(args: argparse.Namespace, config: Config) -> int:
    from preflight.campaign.command import run

    return run(args.campaign, args.cwd, args.json, os.environ)


def cmd_demo_seed(args: argparse.Namespace, config: Config) -> int:
    from preflight.checks.arctic import resolve_lmdb
    from preflight.demo import seed
    from preflight.durations import parse_duration

    stale = {}
    for item in args.stale:
        symbol, _, age = item.partition(":")
        try:
            stale[symbol] = parse_duration(age or "5d")
        except ValueError as exc:
            print(f"preflight demo-seed: --stale {item}: {exc}", file=sys.stderr)
            return USAGE
    uri = resolve_lmdb(args.uri or config.text("ARCTICDB_URI"), _base_dir())
    symbols = seed(uri, config.text("ARCTICDB_LIBRARY"), args.rows, stale)
    print(f"seeded {len(symbols)} symbols into library {config.text('ARCTICDB_LIBRARY')} at {uri}")
    return 0


def cmd_unframe(args: argparse.Namespace, config: Config) -> int:
    from preflight.artifact import ArtifactError, unframe, write_atomic

    try:
        artifact = unframe(args.log.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ArtifactError, ValueError) as exc:
        print(f"artifact missing or corrupt: {exc}", file=sys.stderr)
        return 6
    write_atomic(artifact, args.out)
    print(artifact["status"])
    return 0


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    if args.for_run:
        validate_for_run(config)
    if args.format == "identity-hash":
        print(config.identity_hash())
    elif args.format == "env":
        for key, value in config.values.items():
            print(f"{key}={value}")
    else:
        # The closing record lets the reader prove it saw every pair and nothing else.
        pairs = "".join(f"{k}\0{v}\0" for k, v in config.values.items())
        sys.stdout.write(f"{pairs}{END_OF_PAIRS}\0{len(config.values)}\0")
    return 0


def _overrides(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        pairs[key] = value
    return pairs


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"probe": cmd_probe, "verify": cmd_verify, "campaign": cmd_campaign, "demo-seed": cmd_demo_seed,
                "config": cmd_config, "unframe": cmd_unframe}
    try:
        config = load(getattr(args, "config", None), os.environ, _overrides(getattr(args, "set", [])))
        return commands[args.command](args, config)
    except ConfigError as exc:
        print(f"preflight: config error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
