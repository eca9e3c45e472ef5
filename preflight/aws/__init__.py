"""boto3 helpers the bash orchestrator calls as `python -m preflight.aws ...`."""
