"""docs/API.md's table of list member names (between `<!-- list-members:start -->` and
`end`) is the OpenAPI schema's: every paged list operation and the member holding its items."""

import re
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator

API_MD = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def list_members() -> list[tuple[str, str]]:
    """(operationId, items member) of every paged list, sorted by operationId."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    rows = []
    for item in schema["paths"].values():
        for op in item.values():
            body = op["responses"].get("200", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            envelope = components.get(ref.rsplit("/", 1)[-1], {})
            data_ref = envelope.get("properties", {}).get("data", {}).get("$ref", "")
            if not data_ref.endswith("ListOutput_data"):
                continue
            members = [m for m in components[data_ref.rsplit("/", 1)[-1]]["properties"] if m != "pageToken"]
            rows.append((op["operationId"], members[0]))  # the items first (then e.g. `gaps`)
    return sorted(rows)


def table(rows) -> str:
    lines = ["| operation | items in `data.` |", "|---|---|"]
    lines += [f"| `{op}` | `{member}` |" for op, member in rows]
    return "\n".join(lines)


def test_api_md_lists_every_list_member_name_as_the_schema_does(db):
    text = API_MD.read_text(encoding="utf-8")
    found = re.search(r"<!-- list-members:start -->\n(.*?)\n<!-- list-members:end -->", text, re.S)
    assert found, "API.md has no list-members table"
    assert found.group(1).strip() == table(list_members()), (
        "docs/API.md's list-members table differs from the schema; paste:\n" + table(list_members())
    )
