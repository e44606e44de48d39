"""The API fuzzed from its own OpenAPI document (schemathesis), a few seconds in all.

Every operation gets a small number of generated requests, valid and invalid: no answer may be a
500, every status code, content type, header and JSON body must be the documented ones, and
invalid input must be refused with a 4xx.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.portal.eligibility_register import make_app
from tests.registers import writable_copy

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 5}


@pytest.fixture(scope="module")
def schema(eligibility, tmp_path_factory):
    """The API of a copy of the eligibility register, which its checks store receipts in."""
    register = writable_copy(eligibility, tmp_path_factory.mktemp("fuzz"))
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", make_app(register))


def operations(schema, mode):
    """Every operation; for invalid input only those with something to get wrong (a query, path or body)."""
    out = []
    for operation in (result.ok() for result in schema.get_all_operations()):
        definition = operation.definition.raw
        negatable = "requestBody" in definition or any(p["in"] != "header" for p in definition.get("parameters", []))
        if mode == GenerationMode.POSITIVE or negatable:
            out.append(operation)
    return out


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_api_conforms_to_its_own_document(schema, mode):
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    tested = set()
    for operation in operations(schema, mode):
        @settings(max_examples=EXAMPLES[mode], deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            case.call_and_validate(checks=checks)

        run()
        tested.add(operation.label)
    documented = {f"{method.upper()} {path}" for path, methods in schema.raw_schema["paths"].items() for method in methods}
    expected = {"GET /openapi.json"} if mode == GenerationMode.POSITIVE else {"GET /openapi.json", "GET /releases", "GET /"}
    assert documented - tested == expected   # schemathesis leaves out the document itself
