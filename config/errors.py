"""Turn pydantic's validation errors into one line per environment variable.

pydantic reports `loc=("sarah_port",)` and a message that may quote the bad input; an admin needs
`SARAH_PORT: must be at most 65535`, and a secret's value must never be echoed back.
"""

from __future__ import annotations

from pydantic import ValidationError


class SettingsError(Exception):
    """Sarah cannot start with these settings; `problems` holds one line per variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Sarah's settings need fixing:\n" + "\n".join(f"  - {p}" for p in problems))


def describe_validation_error(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["loc"]:
            variable = str(item["loc"][0]).upper()
            lines.append(f"{variable}: {message}")
        elif ":" in message.split(" ", 1)[0]:
            lines.append(message)  # a model validator that already names its variable
        else:
            lines.append(f"{error.title}: {message}")
    return lines
