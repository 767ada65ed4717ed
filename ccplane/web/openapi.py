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


# What any operation may answer besides its success: a body it cannot read
# (400/413/415), a token (401/403), a missing resource (404), a conflict (409),
# a field (422), a throttled login or a full hashing pool (429), a database
# outage or a standby replica (503). 405 is the router's, with Allow.
_ERRORS = ("400", "401", "403", "404", "409", "413", "415", "422", "429", "503")
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "a team user's access token (POST /auth/token)"},
    "app": {"type": "http", "scheme": "bearer",
            "description": "a monitored person's app token (POST /app/{domain}/login)"},
}


def build_openapi(api: "Api", title: str, version: str) -> dict[str, Any]:
    from ..features.common import not_nullable
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
            # From the model's own schema, so each parameter keeps its bounds
            # (limit's minimum, offset's maximum) and its alias (``from``).
            query_schema = ep.query.model_json_schema(ref_template=ref)
            for k, v in query_schema.pop("$defs", {}).items():
                schemas.setdefault(k, v)
            required = set(query_schema.get("required", ()))
            for name, schema in query_schema.get("properties", {}).items():
                not_nullable(schema)  # a query string cannot say null: it leaves the parameter out
                params.append({"name": name, "in": "query", "required": name in required, "schema": schema})
        params += [{"name": h, "in": "header", "required": False, "schema": {"type": "string"}} for h in ep.headers]
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": ref.format(model=ep.body.__name__)}},
                **{other: {"schema": {"type": "string"}} for other in ep.accepts}}}
        elif ep.upload:
            fields = {name: {"type": "string", "format": "binary"} if i == 0 else {"type": "string"}
                      for i, name in enumerate(ep.upload)}
            op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": list(ep.upload), "properties": fields}}}}
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
            for other in ep.produces:
                content[other] = {"schema": {"type": "string", "format": "binary"}}
            responses[str(ep.status)] = {"description": "ok", "content": content}
            for code in ep.also:
                if code.startswith("2"):
                    responses[code] = {"description": "ok", "content": content}
        for code in _ERRORS + tuple(c for c in ep.also if not c.startswith("2")):
            responses[code] = {"description": "error",
                               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        op["responses"] = responses
        if ep.security:
            op["security"] = [{ep.security: []}]
        paths.setdefault(api.prefix + ep.path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
    }
