"""`GET /api/v1/openapi.json`: the API described from the marshmallow schemas the routes use.

A view says what it takes and gives with `@documented(...)`; `build_spec` walks the app's URL
map, so a route without a description cannot go unnoticed (a test checks every one)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from marshmallow import Schema

TITLE = "WhatsApp gateway"
VERSION = "1"
PATH_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
UNDOCUMENTED = ("static",)


def documented(summary: str, *, query: type[Schema] | None = None,
               body: type[Schema] | dict[str, list[type[Schema]]] | None = None,
               responses: dict[int, type[Schema] | str] | None = None,
               public: bool = False, tag: str = "operators") -> Callable:
    """Attach what the view takes (query, body) and gives (status: schema or description)."""
    def attach(view: Callable) -> Callable:
        bodies = body if isinstance(body, dict) or body is None else {
            "application/json": [body]}
        view.api_doc = {"summary": summary, "query": query, "bodies": bodies,  # type: ignore
                        "responses": responses or {200: "OK"},
                        "public": public, "tag": tag,
                        "description": (view.__doc__ or "").strip()}
        return view
    return attach


def build_spec(app: Flask, schemas: dict[str, type[Schema]]) -> dict[str, Any]:
    """The OpenAPI 3 document of every documented route of `app`."""
    spec = APISpec(TITLE, VERSION, "3.0.3", plugins=[MarshmallowPlugin(_schema_name)], info={
        "description": "Operator API (bearer JWT from `flask issue-token`), the public "
                       "webhook, health and metrics."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    for name, schema in schemas.items():
        spec.components.schema(name, schema=schema)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in UNDOCUMENTED:
            continue
        doc = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None:
            continue
        operations = {method.lower(): _operation(doc, rule)
                      for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}
        spec.path(path=PATH_PARAMETER.sub(r"{\1}", rule.rule), operations=operations)
    return spec.to_dict()


def _schema_name(schema) -> str | None:
    """A nested schema's component name: its class name; one made by `Schema.from_dict`
    has none worth giving, and is written inline."""
    cls = resolve_schema_cls(schema)
    cls = cls[0] if isinstance(cls, list) else cls
    if cls.__name__ in ("GeneratedSchema", "Generated"):
        return None
    # A provider's schemas are named after it: Cloud API's `_Message` is not our `Message`.
    module = cls.__module__
    return (f"{module.rsplit('.', 1)[-1]}_{cls.__name__.lstrip('_')}"
            if module.startswith("dialects.") else cls.__name__)


def _operation(doc: dict, rule) -> dict:
    operation: dict[str, Any] = {"summary": doc["summary"], "tags": [doc["tag"]],
                                 "responses": {}}
    if doc["description"]:
        operation["description"] = doc["description"]
    parameters: list[dict] = [{"in": "path", "name": name, "required": True,
                               "schema": {"type": "string"}} for name in rule.arguments]
    if doc["query"] is not None:
        parameters.append({"in": "query", "schema": doc["query"]})
    if parameters:
        operation["parameters"] = parameters
    if doc["bodies"]:
        operation["requestBody"] = {"required": True, "content": {
            media: {"schema": schemas[0] if len(schemas) == 1 else {"oneOf": schemas}}
            for media, schemas in doc["bodies"].items()}}
    for status, answer in doc["responses"].items():
        if isinstance(answer, str):
            operation["responses"][str(status)] = {"description": answer}
        else:
            operation["responses"][str(status)] = {
                "description": answer.__doc__.strip().splitlines()[0] if answer.__doc__ else "",
                "content": {"application/json": {"schema": answer}}}
    operation["security"] = [] if doc["public"] else [{"bearer": []}]
    return operation
