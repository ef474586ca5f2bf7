"""`sarah train validate`: is this data fit to fine-tune Sarah?

Every check of OpenAI's chat fine-tuning data-preparation guidance (format errors by category,
token counts, the epochs the API would choose and the billed tokens), and what the guidance lacks:
duplicates and near duplicates, the same example in two files (leakage between train and valid),
a system message other than the bot's `SYSTEM_PROMPT`, and assistant turns that claim to have acted
on the customer's devices or account. A broken line is reported as `file:line` and the check goes
on, so one run shows every problem.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from handlers.prompt import HANDOFF_REASONS, HANDOFF_TOOL_NAME, SYSTEM_PROMPT
from training.claims import find_claims
from training.dedupe import similar_pairs
from training.examples import OBJECTIVES, OPENAI_TOP_LEVEL_KEYS, OUR_TOP_LEVEL_KEYS, dialogue_text, read_jsonl
from training.tokens import DEFAULT_MAX_TOKENS, billed_tokens, count_example, default_epochs, resolve_encoder, stats

Severity = Literal["error", "warning"]

MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "function_call", "weight"})
ROLES = frozenset({"system", "user", "assistant", "tool", "function"})
MIN_TRAINING_EXAMPLES = 10  # OpenAI refuses a smaller training file

# The categories of OpenAI's guidance first, then ours; the terminal report keeps this order.
CATEGORIES = (
    "invalid_json",
    "data_type",
    "missing_messages_list",
    "message_missing_key",
    "message_unrecognized_key",
    "unrecognized_role",
    "missing_content",
    "example_missing_assistant_message",
    "unknown_top_level_key",
    "tools_shape",
    "tool_call_shape",
    "undeclared_tools",
    "ends_with_user_turn",
    "weight",
    "system_prompt_differs",
    "action_claim",
    "duplicate",
    "leakage",
    "eval_leakage",
    "near_duplicate",
    "over_token_limit",
    "missing_system_message",
    "missing_objective",
    "not_approved",
    "nothing_to_learn",
    "too_few_examples",
    "no_examples",
)


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    category: str
    where: str  # "file:line", or "file" for a whole-file problem
    message: str


@dataclass(slots=True)
class FileReport:
    path: str
    lines: int = 0
    examples: int = 0
    by_objective: dict[str, int] = field(default_factory=dict)
    multi_turn_share: float = 0.0  # examples with two or more assistant turns
    tokens: dict[str, Any] | None = None
    assistant_tokens: dict[str, Any] | None = None
    over_limit: int = 0
    default_epochs: int = 0
    billed_tokens: int = 0


@dataclass(slots=True)
class Report:
    model: str
    base_model: str
    max_tokens: int
    files: list[FileReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        counts = Counter(p.category for p in self.errors)
        return {
            "ok": self.ok,
            "model": self.model,
            "base_model": self.base_model,
            "max_tokens_per_example": self.max_tokens,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "errors_by_category": {c: counts[c] for c in CATEGORIES if counts[c]},
            "examples": sum(f.examples for f in self.files),
            "files": [asdict(f) for f in self.files],
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass(slots=True)
class _Parsed:
    """An example that parsed as JSON, kept for the cross-example checks."""

    file_index: int
    where: str
    value: Any


def validate_files(
    paths: list[Path],
    *,
    model: str = "gpt-4.1-mini-2025-04-14",
    max_tokens: int = DEFAULT_MAX_TOKENS,
    eval_path: Path | None = None,
    strict: bool = False,
) -> Report:
    """Check every file, then duplicates within and across them; never raises on bad data.

    With `eval_path` (the held-out set), a customer message found in it and in the training data is an
    error too: the evaluation would measure recall, not skill. `strict` (what CI runs) makes an example
    over `max_tokens` an error: OpenAI would cut it, and the cut usually drops the assistant's answer.
    """
    base, encoder = resolve_encoder(model)
    report = Report(model=model, base_model=base, max_tokens=max_tokens)
    parsed: list[_Parsed] = []
    for file_index, path in enumerate(paths):
        file_report = FileReport(path=str(path))
        report.files.append(file_report)
        totals: list[int] = []
        assistant: list[int] = []
        objectives: Counter[str] = Counter()
        multi_turn = 0
        try:
            lines = list(read_jsonl(path))
        except (OSError, UnicodeDecodeError) as error:
            report.problems.append(Problem("error", "invalid_json", str(path), f"cannot read the file: {error}"))
            continue
        for line in lines:
            file_report.lines += 1
            if line.error is not None:
                report.problems.append(Problem("error", "invalid_json", line.where, line.error))
                continue
            problems = check_example(line.value, line.where)
            report.problems.extend(problems)
            parsed.append(_Parsed(file_index, line.where, line.value))
            if not isinstance(line.value, dict) or not isinstance(line.value.get("messages"), list):
                continue
            file_report.examples += 1
            objectives[str(line.value.get("objective", "unknown"))] += 1
            counted = count_example(line.value, encoder)
            totals.append(counted.total)
            assistant.append(counted.assistant)
            if counted.total > max_tokens:
                report.problems.append(
                    Problem(
                        "error" if strict else "warning",
                        "over_token_limit",
                        line.where,
                        f"{counted.total} tokens, over the {max_tokens} limit: it will be truncated",
                    )
                )
            turns = sum(1 for m in line.value["messages"] if isinstance(m, dict) and m.get("role") == "assistant")
            multi_turn += turns >= 2
        file_report.by_objective = dict(sorted(objectives.items()))
        file_report.multi_turn_share = round(multi_turn / file_report.examples, 3) if file_report.examples else 0.0
        token_stats, assistant_stats = stats(totals), stats(assistant)
        file_report.tokens = token_stats.as_dict() if token_stats else None
        file_report.assistant_tokens = assistant_stats.as_dict() if assistant_stats else None
        file_report.over_limit = sum(t > max_tokens for t in totals)
        file_report.default_epochs = default_epochs(len(totals))
        file_report.billed_tokens = billed_tokens(totals, file_report.default_epochs, max_tokens)
        if file_report.examples == 0 and not any(p.where.startswith(f"{path}:") for p in report.errors):
            report.problems.append(Problem("error", "no_examples", str(path), "no examples: the file trains nothing"))
        if 0 < file_report.examples < MIN_TRAINING_EXAMPLES:
            report.problems.append(
                Problem(
                    "warning",
                    "too_few_examples",
                    str(path),
                    f"{file_report.examples} examples: OpenAI needs at least {MIN_TRAINING_EXAMPLES} to train",
                )
            )
    report.problems.extend(_duplicate_problems(parsed))
    if eval_path is not None and eval_path.exists():
        report.problems.extend(_eval_leakage(parsed, eval_path))
    return report


def check_example(value: Any, where: str) -> list[Problem]:
    """The problems of one parsed line, each naming its category and `where`."""
    if not isinstance(value, dict):
        return [Problem("error", "data_type", where, f"an example must be a JSON object, not {type(value).__name__}")]
    problems: list[Problem] = []

    def error(category: str, message: str) -> None:
        problems.append(Problem("error", category, where, message))

    def warning(category: str, message: str) -> None:
        problems.append(Problem("warning", category, where, message))

    for key in value:
        if key not in OPENAI_TOP_LEVEL_KEYS | OUR_TOP_LEVEL_KEYS:
            error("unknown_top_level_key", f"unknown key {key!r} (OpenAI accepts messages, tools, parallel_tool_calls)")
    approved = value.get("approved", True)
    if approved is False:
        error("not_approved", "a harvested candidate nobody has approved yet: review it, then set approved to true")
    elif not isinstance(approved, bool):
        error("not_approved", f"'approved' must be true or false, not {approved!r}")
    objective = value.get("objective")
    if objective is None:
        warning("missing_objective", "no 'objective': the split cannot stratify this example")
    elif objective not in OBJECTIVES:
        warning("missing_objective", f"objective {objective!r} is not one of {', '.join(OBJECTIVES)}")

    messages = value.get("messages")
    if not isinstance(messages, list) or not messages:
        error("missing_messages_list", "no 'messages' list (or it is empty)")
        return problems

    declared = _check_tools(value.get("tools"), error)
    call_ids: set[str] = set()
    for index, message in enumerate(messages, start=1):
        _check_message(index, message, declared, call_ids, error)

    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if roles and roles[-1] == "user":
        error(
            "ends_with_user_turn",
            f"message {len(messages)}: the conversation ends with a customer message that nothing answers "
            "(cut off? the last message must be Sarah's)",
        )
    if "assistant" not in roles:
        error("example_missing_assistant_message", "no assistant message: nothing to learn")
    elif all(m.get("weight") == 0 for m in messages if isinstance(m, dict) and m.get("role") == "assistant"):
        warning("nothing_to_learn", "every assistant message has weight 0")
    systems = [m for m in messages if isinstance(m, dict) and m.get("role") == "system"]
    if not systems:
        warning("missing_system_message", "no system message: the bot always sends SYSTEM_PROMPT")
    for message in systems:
        if isinstance(message.get("content"), str) and message["content"] != SYSTEM_PROMPT:
            error(
                "system_prompt_differs",
                "the system message differs from handlers.prompt.SYSTEM_PROMPT, which the bot sends",
            )
    for index, message in enumerate(messages, start=1):
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
            for claim in find_claims(message["content"]):
                error("action_claim", f"message {index}: claims an action Sarah cannot take: {claim!r}")
    return problems


def _check_tools(tools: Any, error: Any) -> set[str] | None:
    """Names of the declared functions, or None when the example declares no tools."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        error("tools_shape", "'tools' must be a list")
        return set()
    names: set[str] = set()
    for position, tool in enumerate(tools, start=1):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            not isinstance(tool, dict)
            or tool.get("type") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("parameters", {}), dict)
        ):
            error(
                "tools_shape", f"tool {position}: must be {{'type': 'function', 'function': {{'name', 'parameters'}}}}"
            )
            continue
        names.add(function["name"])
    return names


def _check_message(index: int, message: Any, declared: set[str] | None, call_ids: set[str], error: Any) -> None:
    where = f"message {index}"
    if not isinstance(message, dict):
        error("data_type", f"{where}: must be a JSON object")
        return
    role = message.get("role")
    if "role" not in message:
        error("message_missing_key", f"{where}: no 'role'")
    elif role not in ROLES:
        error("unrecognized_role", f"{where}: role {role!r} is not one of {', '.join(sorted(ROLES))}")
    unknown = sorted(set(message) - MESSAGE_KEYS)
    if unknown:
        error("message_unrecognized_key", f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")

    calls = message.get("tool_calls")
    is_call = role == "assistant" and (bool(calls) or bool(message.get("function_call")))
    content = message.get("content")
    if "content" not in message and not is_call:
        error("message_missing_key", f"{where}: no 'content'")
    elif not is_call and (not isinstance(content, str) or not content.strip()):
        error("missing_content", f"{where}: 'content' must be non-empty text")
    elif is_call and content is not None and not isinstance(content, str):
        error("missing_content", f"{where}: 'content' must be text or null")

    if "weight" in message:
        if role != "assistant":
            error("weight", f"{where}: 'weight' is only allowed on assistant messages")
        elif message["weight"] not in (0, 1) or isinstance(message["weight"], bool):
            error("weight", f"{where}: 'weight' must be 0 or 1, not {message['weight']!r}")

    if calls is not None:
        _check_tool_calls(where, role, calls, declared, call_ids, error)
    if role == "tool" and message.get("tool_call_id") not in call_ids:
        error("tool_call_shape", f"{where}: a tool message needs the 'tool_call_id' of an earlier tool call")


def _check_tool_calls(
    where: str, role: Any, calls: Any, declared: set[str] | None, call_ids: set[str], error: Any
) -> None:
    if role != "assistant":
        error("tool_call_shape", f"{where}: only assistant messages may have 'tool_calls'")
        return
    if not isinstance(calls, list) or not calls:
        error("tool_call_shape", f"{where}: 'tool_calls' must be a non-empty list")
        return
    for position, call in enumerate(calls, start=1):
        label = f"{where}, tool call {position}"
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(call, dict)
            or not isinstance(call.get("id"), str)
            or not call["id"]
            or call.get("type") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments"), str)
        ):
            error(
                "tool_call_shape",
                f"{label}: must be {{'id', 'type': 'function', 'function': {{'name', 'arguments': JSON text}}}}",
            )
            continue
        call_ids.add(call["id"])
        name = function["name"]
        if declared is None:
            error("undeclared_tools", f"{label}: calls {name!r}, but the example has no 'tools' list declaring it")
        elif name not in declared:
            error("tool_call_shape", f"{label}: calls {name!r}, which the example's 'tools' do not declare")
        try:
            arguments = json.loads(function["arguments"])
        except json.JSONDecodeError:
            error("tool_call_shape", f"{label}: 'arguments' is not valid JSON")
            continue
        if not isinstance(arguments, dict):
            error("tool_call_shape", f"{label}: 'arguments' must be a JSON object")
        elif name == HANDOFF_TOOL_NAME:
            if arguments.get("reason") not in HANDOFF_REASONS:
                error(
                    "tool_call_shape",
                    f"{label}: reason {arguments.get('reason')!r} is not one of {', '.join(HANDOFF_REASONS)}",
                )
            if not isinstance(arguments.get("summary"), str) or not arguments["summary"].strip():
                error("tool_call_shape", f"{label}: a hand-off needs a one-sentence 'summary'")


def _duplicate_problems(parsed: list[_Parsed]) -> list[Problem]:
    """Duplicates inside one file, and any example found (or nearly) in two files: leakage."""
    texts = [dialogue_text(p.value) for p in parsed]
    problems: list[Problem] = []
    for pair in similar_pairs(texts):
        first, second = parsed[pair.first], parsed[pair.second]
        if not texts[pair.first].strip():
            continue
        kind = "the same as" if pair.exact else f"nearly the same as (similarity {pair.similarity:.2f})"
        if first.file_index != second.file_index:
            message = f"{kind} {first.where}: an example in two files trains twice; across train and valid it leaks"
            problems.append(Problem("error", "leakage", second.where, message))
        elif pair.exact:
            problems.append(Problem("error", "duplicate", second.where, f"{kind} {first.where}"))
        else:
            problems.append(Problem("warning", "near_duplicate", second.where, f"{kind} {first.where}"))
    return problems


MIN_LEAK_WORDS = 6  # shorter messages are compared exactly (after normalising), not by similarity


def normalise_turn(text: str) -> str:
    """Casefolded, punctuation stripped, whitespace collapsed: "Thanks!!" and "thanks" are one message."""
    kept = "".join(c for c in text.casefold() if not unicodedata.category(c).startswith("P"))
    return " ".join(kept.split())


def _eval_leakage(parsed: list[_Parsed], eval_path: Path) -> list[Problem]:
    """Customer messages of the held-out set that also appear in the training data.

    Long messages are matched by similarity (a near copy leaks too); short ones, where similarity
    means nothing, by normalised equality: a short held-out turn trained on verbatim still leaks.
    """
    held_out: list[tuple[str, str]] = []
    for line in read_jsonl(eval_path):
        if line.error is None and isinstance(line.value, dict):
            for message in line.value.get("messages") or []:
                if isinstance(message, dict) and message.get("role") == "user":
                    held_out.append((f"{eval_path}:{line.number}", str(message.get("content") or "")))
    trained: list[tuple[str, str]] = []
    for example in parsed:
        messages = example.value.get("messages") if isinstance(example.value, dict) else None
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
                trained.append((example.where, message["content"]))
    problems: list[Problem] = []

    def leak(eval_where: str, where: str) -> None:
        problems.append(
            Problem("error", "eval_leakage", where, f"a customer message of the held-out set {eval_where} is here too")
        )

    texts = [t for _, t in held_out] + [t for _, t in trained]
    for pair in similar_pairs(texts):
        if pair.first < len(held_out) <= pair.second and len(texts[pair.first].split()) >= MIN_LEAK_WORDS:
            leak(held_out[pair.first][0], trained[pair.second - len(held_out)][0])
    short: dict[str, str] = {}
    for where, text in held_out:
        if len(text.split()) < MIN_LEAK_WORDS and normalise_turn(text):
            short.setdefault(normalise_turn(text), where)
    for where, text in trained:
        eval_where = short.get(normalise_turn(text))
        if eval_where is not None:
            leak(eval_where, where)
    return problems
