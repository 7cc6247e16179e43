#!/usr/bin/env python3
"""Validates a FHIR R4 JSON document against the official FHIR R4 JSON schema
(fhir.schema.json, draft-06) with python3-jsonschema. For a Bundle that does
not validate, each entry's resource is checked against its own definition so
that the message names the field. Exit 0 valid, 1 invalid, 2 usage.
Usage: validate_fhir.py SCHEMA DOCUMENT"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        document = json.load(f)
    validator = jsonschema.Draft6Validator(schema)
    if validator.is_valid(document):
        print("valid FHIR R4:", document.get("resourceType"), len(document.get("entry", [])), "entries")
        return 0
    for index, entry in enumerate(document.get("entry", [])):
        resource = entry.get("resource", {})
        definition = dict(schema, **{"$ref": "#/definitions/" + str(resource.get("resourceType"))})
        definition.pop("oneOf", None)
        for error in jsonschema.Draft6Validator(definition).iter_errors(resource):
            path = "/".join(str(p) for p in error.path)
            print(f"entry[{index}].resource/{path}: {error.message[:200]}")
    print("not valid FHIR R4")
    return 1


if __name__ == "__main__":
    sys.exit(main())
