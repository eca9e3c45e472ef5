"""`preflight` command line: probe · verify · campaign · init · demo-seed · unframe · config.

Exit 0 ready, 1 failed, 2 usage.

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
REPORT_NOT_WRITTEN = 5  # a READY probe whose --junit/--sarif file could not be written (as run.json's)
ARTIFACT_UNWRITTEN = 5  # the environment failed the run, not its checks
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
    probe.add_argument("--junit", type=Path, metavar="PATH", help="also write the checks as JUnit XML to PATH")
    probe.add_argument("--sarif", type=Path, metavar="PATH", help="also write the lint findings as SARIF 2.1.0")
    probe.add_argument("--format", choices=("text", "github"),
                       help="github: failures and lint findings as workflow commands on stderr and a table in "
                            "$GITHUB_STEP_SUMMARY (the default when GITHUB_ACTIONS=true)")

    campaign = sub.add_parser("campaign", help="readiness preflight for an ml-metaoptimization campaign")
    campaign.add_argument("--campaign", type=Path, required=True, help="the campaign YAML")
    campaign.add_argument("--cwd", type=Path, default=Path("."), help="the project root (default .)")
    campaign.add_argument("--json", action="store_true", help="print only the artifact as JSON")

    verify = sub.add_parser("verify", help="0 when the artifact is fresh and READY, 1 FAILED, 6 unusable")
    verify.add_argument("artifact", type=Path)
    verify.add_argument("--campaign", type=Path, help="verify a campaign readiness artifact against this campaign")
    verify.add_argument("--max-age", help="e.g. 6h (default: PREFLIGHT_MAX_AGE)")
    verify.add_argument("--config", type=Path, help="compare the artifact's config hash with this config")
    verify.add_argument("--json", action="store_true",
                        help="print only the verdict as JSON (preflight/schema/verify-result.schema.json)")

    seed = sub.add_parser("demo-seed", help="create the embedded demo ArcticDB store")
    seed.add_argument("--config", type=Path)
    seed.add_argument("--uri", help="default: ARCTICDB_URI from the config")
    seed.add_argument("--rows", type=int, default=48)
    seed.add_argument("--stale", action="append", default=[], metavar="SYMBOL:AGE",
                      help="write SYMBOL with its last row AGE old (e.g. CL:5d)")

    unframe = sub.add_parser("unframe", help="cut the framed artifact out of a step log (exit 6 if absent)")
    unframe.add_argument("log", type=Path)
    unframe.add_argument("--out", type=Path, required=True)

    init = sub.add_parser("init", help="write a starter config for a training repository",
                          description="Write a starter config for a training repository: its training command, "
                                      "requirements, input paths and W&B use, every line commented. Relative "
                                      "paths in a config resolve against the config file's folder.")
    init.add_argument("--repo", type=Path, default=Path("."), help="the training repository (default .)")
    init.add_argument("--out", type=Path, help="where to write it (default REPO/preflight.env; never overwritten)")

    config = sub.add_parser("config", help="resolve workflow.env for the orchestrator")
    config.add_argument("--config", type=Path, required=True)
    config.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    config.add_argument("--for-run", action="store_true", help="also validate transport keys and timeouts")
    config.add_argument("--plan", action="store_true",
                        help="with --for-run: for spot_train.sh --plan, which needs no project (REPO_DIR/REPO_URL)")
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
    from preflight.guard import coverage, read_log

    role = config.text("PREFLIGHT_READONLY_ROLE_ARN")
    if role:
        from preflight.aws.readonly_role import apply, assume

        try:  # before the guard: AssumeRole is not a read, and it is ours, not the project's
            probe_s = max(config.float("PROBE_TIMEOUT_SECONDS"), config.float("PROBE_DEADLINE_SECONDS"))
            apply(os.environ, assume(role, config.text("AWS_REGION"), probe_seconds=probe_s))
        except Exception as exc:  # noqa: BLE001 - any failure means no hard guarantee: run nothing
            return [readonly.role_failure(role, f"{type(exc).__name__}: {exc}")]
    results, refused = _checks_with_guard(config, guard_log)
    seen = coverage(guard_log)
    # Code not ours ran: a project check, the project's imports or the entry's third-party imports, or
    # anything that started unguarded (the probe's own children — runtime, pins, lint — are not it).
    user_code = bool(seen.unguarded) or any((r.id in ("imports", "entrypoint") or r.id.startswith("project:"))
                                            and r.status != "skip" for r in results)
    can_write = config.text("TRANSPORT") == "ssm" or readonly.credentials_visible(os.environ)
    results.append(readonly.verdict(refused, read_log(guard_log)[1], user_code, role, can_write, seen))
    return results


def _reports(args: argparse.Namespace, artifact: dict[str, Any]) -> list[str]:
    """The CI reports asked for (--junit, --sarif, GitHub Actions); the problems met writing them."""
    from preflight.report_formats import run
    from preflight.report_formats.emit import emit, wants_github
    from preflight.report_formats.places import Places

    github = wants_github(args.format, os.environ)
    if not (args.junit or args.sarif or github):
        return []
    here = Path.cwd()  # lint's root: its paths are relative to it
    return emit(run.from_probe(artifact, __version__), Places.make(here, here, args.config, dict(os.environ)),
                junit_path=args.junit, sarif_path=args.sarif, github_mode=github, environ=os.environ)


def writable_target(path: Path) -> str:
    """"" when a file can be created at `path` (its nearest existing folder is a directory we may write),
    else why not — said before any work is done, so that an unwritable results path is a usage error and
    never reads as "checks failed"."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if path.is_dir():
        return f"{path} is a directory"
    if not folder.is_dir():
        return f"{path} is not writable: {folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{path} is not writable: no write permission on {folder} (or a read-only file system)"
    return ""


def cmd_probe(args: argparse.Namespace, config: Config) -> int:
    import tempfile

    from preflight import artifact as art
    from preflight import reaper
    from preflight.report import render, use_color
    from preflight.report_formats.outputs import problems
    from preflight.runner import apply_ignores, stragglers

    unwritable = problems({"--junit": args.junit, "--sarif": args.sarif})
    problem = writable_target(args.out) if args.out else ""
    if problem:
        unwritable.append(f"--out {problem}")
    if unwritable:  # before any check runs: nothing is written
        for problem in unwritable:
            print(f"preflight probe: {problem}; nothing was run", file=sys.stderr)
        return USAGE
    run_id = args.run_id or datetime.now(timezone.utc).strftime("probe-%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    started = time.monotonic()
    subreaper = reaper.become_subreaper()  # a daemon a check starts stays ours, however it detaches
    with tempfile.TemporaryDirectory(prefix="preflight-guard-") as tmp:
        results = _probe_results(config, str(Path(tmp) / "guard.log"))
    left = reaper.sweep()  # what no check's own sweep caught (it dropped the environment that marks it)
    reaper.reap_zombies()
    if left:
        print(f"probe: killed {len(left)} process{'' if len(left) == 1 else 'es'} the checks left running: "
              + "; ".join(left), file=sys.stderr)
    ignored = config.list("IGNORE_PREFLIGHT_ERRORS") + [x for x in args.ignore_preflight_errors.split(",") if x]
    results = apply_ignores(results, ignored)
    late = stragglers()
    artifact = art.build(
        results, run_id=run_id, mode=args.mode, identity_hash=config.identity_hash(),
        runtime_config_hash=art.runtime_hash(config.text("PREFLIGHT_PINS_FILE")),
        duration_s=time.monotonic() - started, environ=os.environ,
        diagnostics={"tool_version": __version__, "config_source": config.source, "ignored": ignored,
                     "checks_still_running": late, "cwd": os.getcwd(), "processes_killed_at_end": left,
                     "subreaper": subreaper})
    write_failed = ""
    if args.out:
        try:
            art.write_atomic(artifact, args.out)
        except OSError as exc:  # a disk that filled or went read-only while the checks ran
            write_failed = f"preflight probe: --out {args.out} could not be written: {exc}"
    if args.json:
        print(art.to_json(artifact))
    else:
        print(render(artifact, use_color(os.environ, sys.stdout.isatty())))
    if args.emit_framed:
        print(art.frame(artifact))
    code = 0 if artifact["status"] == "READY" else 1
    if write_failed:  # the artifact was printed, but the one a consumer reads is not there: not a READY
        print(write_failed, file=sys.stderr)
        code = ARTIFACT_UNWRITTEN
    for problem in _reports(args, artifact):
        print(f"preflight probe: report {problem}", file=sys.stderr)
        code = code or REPORT_NOT_WRITTEN
    if late:  # a hung check's thread (or ArcticDB's own threads) must not keep the probe alive
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _verdict(args: argparse.Namespace, code: int, reason: str, bound_to: Path | None = None,
             checked: bool = True) -> int:
    """Say the verdict: one line for people (stdout when READY, else stderr), or with --json only JSON."""
    if args.json:
        from preflight.verdict import dumps, verdict

        kind = "campaign" if args.campaign else "readiness"
        print(dumps(verdict(code, reason, args.artifact, kind, args.campaign or bound_to, checked)))
    else:
        print(reason if code != USAGE else f"preflight verify: {reason}", file=sys.stdout if code == 0 else sys.stderr)
    return code


def _verify_campaign(args: argparse.Namespace, max_age: float) -> int:
    from preflight.campaign import spec
    from preflight.campaign.verify import verify_campaign

    try:
        campaign = spec.load(args.campaign)
    except spec.CampaignUsageError as exc:
        return _verdict(args, USAGE, str(exc))
    code, reason = verify_campaign(args.artifact, campaign, max_age)
    return _verdict(args, code, reason)


def cmd_verify(args: argparse.Namespace, config: Config) -> int:
    from preflight.durations import parse_duration
    from preflight.verify import find_config, verify

    if args.campaign:
        try:
            return _verify_campaign(args, parse_duration(args.max_age or config.text("PREFLIGHT_MAX_AGE")))
        except ValueError as exc:
            return _verdict(args, USAGE, f"--max-age: {exc}")
    binding, unbound = args.config, ""
    if binding is None:
        binding, unbound = find_config(args.artifact)
        if binding is not None:
            try:
                config = load(binding, os.environ)
            except ConfigError as exc:
                return _verdict(args, 6, f"{args.artifact}: the config its run recorded does not load: {exc}",
                                binding, False)
    try:
        max_age = parse_duration(args.max_age or config.text("PREFLIGHT_MAX_AGE"))
    except ValueError as exc:
        return _verdict(args, USAGE, f"--max-age: {exc}", binding, False)
    code, reason = verify(args.artifact, max_age, config.identity_hash() if binding else None)
    bound = f"config binding checked against {binding}" if binding else f"config binding not checked ({unbound})"
    return _verdict(args, code, f"{reason}; {bound}", binding, binding is not None)


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
    if not uri:
        print("preflight demo-seed: no store: pass --uri or a --config that sets ARCTICDB_URI", file=sys.stderr)
        return USAGE
    library = config.text("ARCTICDB_LIBRARY") or "demo"
    symbols = seed(uri, library, args.rows, stale)
    print(f"seeded {len(symbols)} symbols into library {library} at {uri}")
    return 0


def cmd_unframe(args: argparse.Namespace, config: Config) -> int:
    from preflight.artifact import ArtifactError, read_tail, unframe, write_atomic

    try:
        artifact = unframe(read_tail(args.log))
    except (OSError, ArtifactError, ValueError) as exc:
        print(f"artifact missing or corrupt: {exc}", file=sys.stderr)
        return 6
    write_atomic(artifact, args.out)
    print(artifact["status"])
    return 0


def cmd_config(args: argparse.Namespace, config: Config) -> int:
    if args.for_run:
        validate_for_run(config, plan=args.plan)
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


def cmd_init(args: argparse.Namespace, _config: Config) -> int:
    from preflight.init import main as init_main

    return init_main(args.repo, args.out)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"probe": cmd_probe, "verify": cmd_verify, "campaign": cmd_campaign, "demo-seed": cmd_demo_seed,
                "config": cmd_config, "unframe": cmd_unframe, "init": cmd_init}
    try:
        config = load(getattr(args, "config", None), os.environ, _overrides(getattr(args, "set", [])))
        return commands[args.command](args, config)
    except ConfigError as exc:
        print(f"preflight: config error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
