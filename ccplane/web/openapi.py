"""OpenAPI 3.1 document built from the endpoint table and its pydantic models."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

if TYPE_CHECKING:
    from .routing import Api

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "field"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "field": {"type": ["string", "null"]}}}},
}


def build_openapi(api: "Api", title: str, version: str) -> dict[str, Any]:
    from .routing import path_params
    models: set[Any] = set()
    for ep in api.endpoints:
        for m in (ep.body, ep.query):
            if m is not None:
                models.add(m)
    ref = "#/components/schemas/{model}"
    _, defs = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                 ref_template=ref)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for ep in api.endpoints:
        op: dict[str, Any] = {"operationId": ep.handler.__name__, "summary": ep.summary,
                              "tags": [ep.tag] if ep.tag else []}
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in path_params(ep.path)]
        if ep.query is not None:
            for name, f in ep.query.model_fields.items():
                schema = TypeAdapter(f.annotation).json_schema()
                params.append({"name": f.alias or name, "in": "query", "required": f.is_required(),
                               "schema": schema})
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": ref.format(model=ep.body.__name__)}}}}
        responses: dict[str, Any] = {}
        if ep.status == 204:
            responses["204"] = {"description": "done"}
        else:
            content: dict[str, Any] = {}
            if ep.response is not None:
                schema = TypeAdapter(ep.response).json_schema(mode="serialization", ref_template=ref)
                for k, v in schema.pop("$defs", {}).items():
                    schemas.setdefault(k, v)
                content = {"application/json": {"schema": schema}}
            responses[str(ep.status)] = {"description": "ok", "content": content}
        for code in ("400", "401", "403", "404", "409", "422") if ep.auth else ("400", "401", "422"):
            responses[code] = {"description": "error",
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        if ep.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(api.prefix + ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
