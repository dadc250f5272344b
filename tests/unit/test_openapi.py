"""Every service's OpenAPI tells the truth: the bearer scheme, each error status with the error schema,
/metrics as text, a summary and description per operation and examples for request bodies."""

from __future__ import annotations

import importlib

import pytest

from common.launcher.services import SERVICE_PORTS


def spec_of(service: str) -> dict:
    return importlib.import_module(f"{service}.app").create_app().openapi()


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_openapi_documents_auth_errors_and_operations(service: str) -> None:
    spec = spec_of(service)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            where = f"{service} {method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            if path.startswith("/api/"):
                assert op.get("security") and set(op["security"][0]) <= set(schemes), where
                for status in ("401", "422", "429", "503"):
                    schema = op["responses"][status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (where, status)
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                ref = body["schema"]["$ref"].rsplit("/", 1)[1]
                assert spec["components"]["schemas"][ref].get("examples"), (where, ref)
    assert "text/plain" in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    if any(p.startswith("/api/") for p in spec["paths"]):
        assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
def test_request_body_examples_are_valid_requests(service: str) -> None:
    """An example in the docs that the API would refuse is worse than none."""
    import jsonschema

    spec = spec_of(service)
    schemas = spec.get("components", {}).get("schemas", {})
    checked = 0
    for name, schema in schemas.items():
        for example in schema.get("examples", []):
            root = {**schema, "components": spec["components"]}  # $refs resolve against the spec
            jsonschema.validate(example, root)
            checked += 1
            assert name
    bodies = [op for ops in spec["paths"].values() for op in ops.values() if "requestBody" in op]
    assert checked or not bodies
