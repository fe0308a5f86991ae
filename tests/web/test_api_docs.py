"""/api/docs: the reference page loads the vendored Redoc and the OpenAPI document from this
site only, under a Content Security Policy relaxed on that page alone; the endpoints carry the
examples the reference shows. (The drawing itself is checked in Chromium:
tests/browser/test_api_docs_page.py.)"""
import re
from pathlib import Path

from loyalty.blueprints.api.spec import openapi_document

STATIC = Path(__file__).resolve().parents[2] / "loyalty" / "static"
ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_the_reference_page_uses_only_this_sites_files(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'data-spec-url="/api/v1/openapi.json"' in page.text
    assets = ASSET.findall(page.text)
    assert "/static/vendor/redoc-2.5.4/redoc.standalone.js" in assets
    for asset in assets:
        assert asset.startswith(("/", "#")) and not asset.startswith("//"), asset
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200, asset
    assert "<script>" not in page.text  # every script is a file: script-src stays 'self'
    assert (STATIC / "vendor" / "redoc-2.5.4" / "LICENSE").read_text().startswith("The MIT")


def _policy(response):
    return dict(part.strip().split(" ", 1)
                for part in response.headers["Content-Security-Policy"].split(";"))


def test_only_the_reference_page_relaxes_the_csp(client):
    policy = _policy(client.get("/api/docs"))
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self' 'unsafe-inline'"  # Redoc's run-time <style>s
    assert policy["worker-src"] == "blob:"  # its search index
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    for other in ("/login", "/api/v1/openapi.json"):
        strict = _policy(client.get(other))
        assert strict["style-src"] == "'self'" and "worker-src" not in strict


def test_the_reference_is_public_and_linked_from_the_owners_page(auth, client, merchant):
    assert client.get("/api/docs").status_code == 200  # a developer reads it before a key
    auth.login_as(merchant.owner)
    assert 'href="/api/docs"' in client.get("/merchant/integrations").text


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _missing_examples(document, tags=None):
    """Operations (of ``tags``) whose request body or success answer has no example."""
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if tags and not set(operation.get("tags", ())) & tags:
                continue
            bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
            bodies += [(code, answer.get("content", {}))
                       for code, answer in operation["responses"].items() if code.startswith("2")]
            for label, content in bodies:
                for media in content.values():
                    schema = _resolve(document, media.get("schema", {}))
                    if not ("example" in media or "examples" in media or "examples" in schema
                            or "example" in schema):
                        missing.append(f"{method.upper()} {path} {label}")
    return missing


def test_the_program_endpoints_carry_examples(app):
    with app.test_request_context():
        document = openapi_document()
    assert _missing_examples(document, {"Program", "Public"}) == []
    example = _resolve(document, {"$ref": "#/components/schemas/ProgramOut"})["examples"][0]
    assert example["card_name"] == "Coffee card" and example["rewards"][0]["points_cost"] == 50


def test_every_endpoint_carries_an_example(app):
    with app.test_request_context():
        document = openapi_document()
    assert _missing_examples(document) == []


def test_every_example_is_a_valid_instance_of_its_schema(app):
    """An example that drifted from its schema would teach a till the wrong shape."""
    import pydantic

    from loyalty.blueprints.api import cards, program, purchases, redemptions, spec

    checked = 0
    for module in (cards, program, purchases, redemptions, spec):
        for model in vars(module).values():
            if (isinstance(model, type) and issubclass(model, pydantic.BaseModel)
                    and model.__module__ == module.__name__):
                for example in (model.model_config.get("json_schema_extra") or {}).get(
                        "examples", []):
                    model.model_validate(example, strict=False)
                    checked += 1
    assert checked >= 15
