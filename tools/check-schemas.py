#!/usr/bin/env python3
"""Validate the schema examples with Python's jsonschema, independently of the Swift validator.

For every file under Schemas/examples/{valid,invalid}/ it validates the example's payload against
Schemas/events/<type>.v<schemaVersion>.json (draft 2020-12, formats asserted) and prints one JSON
object: {"<relative path>": {"valid": bool, "errors": [...]}, ...}.
Exit status: 0 when every valid example is accepted and every invalid one rejected, 1 otherwise.

Usage: tools/check-schemas.py [SCHEMAS_DIR]   (default: Schemas next to tools/)
"""
import json
import pathlib
import sys

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent / "Schemas"
checker = FormatChecker()
for required_format in ("date-time", "date", "uuid"):
    if required_format not in checker.checkers:
        sys.exit(f"jsonschema cannot check format {required_format!r}; install rfc3339-validator")

verdicts = {}
agrees = True
for kind in ("valid", "invalid"):
    for path in sorted((root / "examples" / kind).glob("*.json")):
        example = json.loads(path.read_text(encoding="utf-8"))
        schema_path = root / "events" / f"{example['type']}.v{example['schemaVersion']}.json"
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema, format_checker=checker)
        errors = sorted(validator.iter_errors(example["payload"]), key=lambda e: list(e.path))
        verdicts[f"{kind}/{path.name}"] = {
            "valid": not errors,
            "errors": [f"/{'/'.join(map(str, e.path))}: {e.validator}" for e in errors],
        }
        if (not errors) != (kind == "valid"):
            agrees = False
json.dump(verdicts, sys.stdout, indent=1, sort_keys=True)
print()
sys.exit(0 if agrees else 1)
