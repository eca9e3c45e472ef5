"""Campaign mode: the readiness preflight an ml-metaoptimization campaign's LOAD_CAMPAIGN phase reads.

`preflight campaign --campaign PATH [--cwd DIR] [--json]` writes `<cwd>/.ml-metaopt/preflight-readiness.json`,
the orchestrator's only interface: field names, check ids and hashes are part of the contract.
"""
