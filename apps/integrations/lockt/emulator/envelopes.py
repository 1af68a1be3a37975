"""Lockt's response envelopes, all in one place (spec §2.5–§2.7, §9.3). Handlers return
`Reply` objects; the view turns them into HTTP responses."""

from dataclasses import dataclass, field

PARSE_ERROR = "No data found or invalid JSON objects supplied. Could not parse input."  # §2.7 L81
BATCH_FAILED = "Validation errors found. Batch has failed. Details provided."  # §2.7 L83
INSTANCE_ERRORS = (  # §2.7 L84–L87: only through fault injection
    "Unable to enumerate dependant record. Batch has been terminated and exception flagged.",
    "Unable to locate template. Batch has been terminated and exception flagged.",
    "The destination host is unreachable.",
    "An Unexpected Error has occurred. Request has been terminated and exception flagged.",
)
ACCESS_DENIED = "Access denied."  # [Inference] §9.3 step 1
NOT_FOUND = "The resource was not found."  # §2.5 L74


def batch_exceeded_message(limit: int) -> str:
    return f"Batch size exceeds maximum of {limit} objects."  # §2.7 L82


@dataclass
class Reply:
    status: int
    body: dict = field(default_factory=dict)


def read(data) -> Reply:
    """GET success: `{"data": [...]}` (an array even for one record; /about passes an object)."""
    return Reply(200, {"data": data})


def get_error(message: str, status: int = 400) -> Reply:
    """GET error: `{"data": [{"error": msg}]}` ([Inference] §2.6.1, A12). Also 401/404 bodies."""
    return Reply(status, {"data": [{"error": message}]})


def unauthorized() -> Reply:
    return get_error(ACCESS_DENIED, 401)


def not_found() -> Reply:
    return get_error(NOT_FOUND, 404)


def error_object(messages: list[str], input_data) -> dict:
    return {"error": list(messages), "input_data": input_data}


def write_failure(errors: list[dict], result: str = BATCH_FAILED, status: int = 400) -> Reply:
    """Write failure: `{"result": [...], "errors": [{"error": [...], "input_data": {...}}]}`, no `data`."""
    return Reply(status, {"result": [result], "errors": errors})


def parse_failure() -> Reply:
    return write_failure([], PARSE_ERROR)


def batch_exceeded(limit: int) -> Reply:
    return write_failure([], batch_exceeded_message(limit))


def instance_error(message: str, status: int = 500) -> Reply:
    return write_failure([], message, status)


def write_summary(counts: dict, errors: list[dict]) -> Reply:
    """Write success: `{"data": {"submitted", <applied keys>, "errors": n}}`; with
    validate_fails_batch=false and some failures, the error objects follow in `errors`
    ([Inference] §9.3 step 7, A16)."""
    body = {"data": {**counts, "errors": len(errors)}}
    if errors:
        body["errors"] = errors
    return Reply(200, body)
