"""The API's reference page, generated from its OpenAPI schema: Korean first, English
beside it. Our own page (no Redoc or Swagger UI): they load scripts from a CDN, and many
offices' browsers have no internet."""

from __future__ import annotations

import json

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")
_schemas = {}


def schema_in(language):
    """The schema with its texts in `language` (generated once per process and language)."""
    if language not in _schemas:
        with translation.override(language):
            _schemas[language] = json.loads(
                json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str)
            )
    return _schemas[language]


def _parameters(operation, english):
    english = {(p["name"], p["in"]): p for p in english.get("parameters", [])}
    for parameter in operation.get("parameters", []):
        other = english.get((parameter["name"], parameter["in"]), {})
        schema = parameter.get("schema", {})
        yield {
            "name": parameter["name"],
            "where": parameter["in"],
            "required": parameter.get("required", False),
            "type": schema.get("type", ""),
            "choices": ", ".join(str(c) for c in schema.get("enum", []) if c),
            "ko": parameter.get("description", ""),
            "en": other.get("description", ""),
        }


def operations():
    """Every operation: method, path, Korean and English summary, parameters, answers."""
    korean, english = schema_in("ko"), schema_in("en")
    for path, item in korean["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            other = english["paths"].get(path, {}).get(method, {})
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            yield {
                "id": operation.get("operationId", ""),
                "method": method.upper(),
                "path": path,
                "ko": operation.get("summary", ""),
                "en": other.get("summary", ""),
                "parameters": list(_parameters(operation, other)),
                "body": body.get("schema", {}).get("$ref", "").rpartition("/")[2] if body else "",
                "responses": sorted(operation.get("responses", {})),
            }


@staff_member_required
def reference_view(request):
    """GET /api/: the reference page (signed-in staff, through the session)."""
    return render(
        request,
        "api/reference.html",
        {
            "title": "API",
            "operations": list(operations()),
            "info": schema_in("ko")["info"],
            "base": request.build_absolute_uri("/api/").rstrip("/"),
        },
    )
