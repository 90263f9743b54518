#!/usr/bin/env python3
"""Checks recorded HTTP responses against Schemas/openapi.yaml.

Usage: tools/check-openapi.py OPENAPI.yaml SAMPLES.ndjson
Each sample line: {"method": "GET", "path": "/v1/...", "status": 200, "contentType": "...", "body": <JSON or text>}.
For every sample: the path must match a documented path, the method an operation, the status a documented
response, the content type a documented media type, and a JSON body its schema (JSON Schema 2020-12).
Also reports operations that no sample exercised. Exit 0 when everything conforms and every operation
was exercised; 1 otherwise, with one line per problem.
"""
import json
import re
import sys

import jsonschema
import yaml


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target = document
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def template_regex(template):
    return re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$")


def main():
    document = yaml.safe_load(open(sys.argv[1]))
    templates = [(template_regex(path), path) for path in document["paths"]]
    exercised = set()
    problems = []
    checked = 0
    for line_number, line in enumerate(open(sys.argv[2]), 1):
        sample = json.loads(line)
        path = sample["path"].split("?")[0]
        where = f'{sample["method"]} {sample["path"]} → {sample["status"]}'
        matches = [template for regex, template in templates if regex.match(path)]
        if not matches:
            problems.append(f"{where}: no documented path matches")
            continue
        # A literal path wins over a templated one (/v1/events/stream over /v1/customers/{id}).
        template = sorted(matches, key=lambda t: t.count("{"))[0]
        operation = document["paths"][template].get(sample["method"].lower())
        if operation is None:
            problems.append(f"{where}: {template} documents no {sample['method']}")
            continue
        exercised.add((sample["method"].lower(), template))
        responses = operation.get("responses", {})
        response = responses.get(str(sample["status"])) or responses.get("default")
        if response is None:
            problems.append(f"{where}: status {sample['status']} is not documented (documented: {', '.join(responses)})")
            continue
        response = resolve(document, response)
        content = response.get("content", {})
        media = sample["contentType"].split(";")[0].strip()
        if not content:
            if sample.get("body") not in (None, ""):
                problems.append(f"{where}: a body was sent but none is documented")
            continue
        if media not in content:
            problems.append(f"{where}: content type {media} is not documented ({', '.join(content)})")
            continue
        schema = resolve(document, content[media].get("schema", {}))
        if media == "application/json":
            root = dict(schema)
            root["components"] = document.get("components", {})
            validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            errors = sorted(validator.iter_errors(sample["body"]), key=lambda e: list(e.absolute_path))
            for error in errors[:3]:
                pointer = "/" + "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{where}: body {pointer}: {error.message[:200]}")
        checked += 1
    documented = {(method, path) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    for method, path in sorted(documented - exercised):
        problems.append(f"{method.upper()} {path}: no sample exercised this operation")
    for problem in problems:
        print(problem)
    print(f"{checked} responses checked against {len(documented)} operations; {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
