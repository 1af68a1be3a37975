"""OpenAPI links: what a client does with the id a create answers (create -> get/update/delete).

A POST on a collection (`.../areas`) whose answer names the object (`data.areaId`) is linked to every operation
on the item under it (`.../areas/{areaId}`, and that item's own sub-paths such as
`.../areas/{areaId}/install/{lockId}` are left out: they need a second object). The item's id is
taken from the answer's `data.<parameter>`; the collection's own path parameters (e.g. `propertyId`) from
the create's request. Derived from the paths, so a new create/item pair is linked by being
published; schemathesis' stateful phase follows these links (docs/RELIABILITY.md).
"""

import re

PARAM = re.compile(r"\{([^}]+)\}")
ITEM_METHODS = ("get", "put", "patch", "delete")


def _data_members(operation: dict, schemas: dict) -> dict:
    content = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    envelope = _resolve(content.get("schema", {}), schemas)
    return _resolve(envelope.get("properties", {}).get("data", {}), schemas).get("properties", {})


def _resolve(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref", "")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def postprocess_links(result, generator, request, public):
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        create = item.get("post")
        if not create:
            continue
        members = _data_members(create, schemas)
        outer = PARAM.findall(path)
        links = {}
        for item_path, methods in paths.items():
            match = re.fullmatch(re.escape(path) + r"/\{([^}/]+)\}", item_path)
            if not match:
                continue
            name = match.group(1)
            if name not in members:  # the answer does not name the object under this name
                continue
            parameters = {outer_name: f"$request.path.{outer_name}" for outer_name in outer}
            parameters[name] = f"$response.body#/data/{name}"
            for method in ITEM_METHODS:
                target = methods.get(method)
                if target and "operationId" in target:
                    operation_id = target["operationId"]
                    links[operation_id[0].upper() + operation_id[1:]] = {
                        "operationId": operation_id,
                        "parameters": parameters,
                        "description": f"the created object's `{name}`",
                    }
        if links:
            create["responses"]["200"]["links"] = links
    return result
