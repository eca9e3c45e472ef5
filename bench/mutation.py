"""`make mutation`: mutmut over the modules whose tests must be able to fail, one module at a time.

Not part of `make test`. [tool.mutmut] in pyproject.toml says which files are mutated and which fast,
in-process test files may kill a mutant (mutmut runs, per mutant, only those of them that reach the
mutated function). Each module's run is bounded (--budget-s); a module cut short reports the mutants
it did not check. Prints one markdown table (module, mutants, killed, survived, time) and the survivors;
docs/mutation.md keeps the last run with the reason each survivor is equivalent.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["preflight/artifact.py", "preflight/verify.py", "preflight/config.py", "preflight/guard.py",
           "preflight/aws/ec2_terminate.py", "preflight/deadlines.py",
           "preflight/entry/closure.py", "preflight/entry/command.py"]
# mutmut's exit code of a mutant's test run → what it means here (mutmut/stats.py status_by_exit_code).
KILLED, SURVIVED, NO_TESTS, TIMEOUT, NOT_CHECKED = "killed", "survived", "no tests", "timeout", "not checked"
STATUS = {1: KILLED, 3: KILLED, 0: SURVIVED, 5: NO_TESTS, 33: NO_TESTS, 36: TIMEOUT, 24: TIMEOUT, -24: TIMEOUT,
          152: TIMEOUT, 255: TIMEOUT, None: NOT_CHECKED}


def mutmut(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def statuses(module: str) -> dict[str, str]:
    meta = ROOT / "mutants" / f"{module}.meta"
    if not meta.is_file():
        return {}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: STATUS.get(code, f"exit {code}") for name, code in sorted(codes.items())}


def diff_line(name: str) -> str:
    """The mutated line of a mutant, from `mutmut show`."""
    shown = mutmut("show", name).stdout.splitlines()
    changed = [line[1:].strip() for line in shown if line.startswith("+") and not line.startswith("+++")]
    return changed[0] if changed else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--budget-s", type=float, default=1200, help="wall time per module (default 1200)")
    parser.add_argument("modules", nargs="*", default=MODULES)
    args = parser.parse_args()
    rows, survivors, failed = [], [], []
    for module in args.modules:
        prefix = module.removesuffix(".py").replace("/", ".")
        started = time.monotonic()
        cut = False
        broken = False
        try:
            run = mutmut("run", "--max-children", str(args.max_children), f"{prefix}.*", timeout=args.budget_s)
            broken = run.returncode != 0
            if broken:
                print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
        except subprocess.TimeoutExpired:
            cut = True
        took = time.monotonic() - started
        found = statuses(module)
        count = Counter(found.values())
        if broken or count[NOT_CHECKED] == len(found):  # e.g. the tests fail unmutated: no mutant says anything
            failed.append(module)
            rows.append(f"| `{module}` | {len(found)} | run failed (mutmut's output above): nothing measured |"
                        f" | | | {took:.0f} s |")
            continue
        left = count[SURVIVED] + count[NO_TESTS]
        rows.append(f"| `{module}` | {len(found)} | {count[KILLED]} | {count[TIMEOUT]} | {left} "
                    f"({count[NO_TESTS]} reached by no fast test) | "
                    f"{100 * left / max(1, len(found) - count[NOT_CHECKED]):.1f}% | {took:.0f} s"
                    + (f" (cut at the budget: {count[NOT_CHECKED]} not checked)" if cut else "") + " |")
        survivors += [(name, status) for name, status in found.items() if status in (SURVIVED, NO_TESTS)]
    print("| module | mutants | killed | timeout (killed) | survived | survived % (of checked) | time |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print("\nSurvivors:\n")
    for name, status in survivors:
        print(f"- `{name}` ({status}): `{diff_line(name)}`")
    if failed:
        print(f"\nmutation: no measure for {', '.join(failed)}: mutmut's run failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
