"""Validation of the CI reports against the schemas they claim, offline: JUnit XML against the vendored
junit-10.xsd (xmlschema) and read back by junitparser (a real JUnit consumer), SARIF against the
vendored SARIF 2.1.0 schema, our own JSON against preflight/schema/. Used by the pytest and bats suites:
`python -m tests.report_schemas junit|sarif|run-summary|verify-result FILE`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "tests" / "vendor"


def junit(path: Path) -> Any:
    """Valid against junit-10.xsd, and parsed by junitparser: returns junitparser's JUnitXml."""
    import junitparser
    import xmlschema

    xmlschema.XMLSchema(str(VENDOR / "junit-10.xsd")).validate(str(path))
    return junitparser.JUnitXml.fromfile(str(path))


def sarif(document: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads((VENDOR / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)  # draft-04, as the schema says


def ours(name: str, document: Any) -> None:
    import jsonschema

    jsonschema.validate(document, json.loads((ROOT / "preflight" / "schema" / f"{name}.schema.json").read_text()))


def main(argv: list[str]) -> int:
    kind, path = argv[0], Path(argv[1])
    if kind == "junit":
        junit(path)
    elif kind == "sarif":
        sarif(json.loads(path.read_text()))
    else:
        ours(kind, json.loads(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
