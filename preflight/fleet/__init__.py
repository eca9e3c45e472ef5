"""preflight_all.sh's data side: many projects' configs, the fleet-wide launch plan, one summary.

`infra_scripts/preflight_all.sh` sequences the runs (flags, children, signals, exit code); everything
that needs a data structure is here, behind `python -m preflight.fleet check|plan|summarize`.
"""
