"""Reports for CI systems, made from a readiness artifact on the machine that asked for them: JUnit XML
(junit.py), SARIF 2.1.0 for lint (sarif.py), GitHub Actions workflow commands and a step summary
(github.py). Standard library only: spot_train.sh runs them on every exit path of a run."""
