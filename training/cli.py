"""`sarah train …`: validate → split → finetune → evaluate, one subcommand each.

Exit codes: 0 done, 1 the data or the job failed (the report says why), 2 the command cannot run
(bad settings, missing files, a missing extra, a flag the backend cannot honour), 141 the reader of
the output went away (`… | head`). Heavy modules are imported only by the subcommand
that needs them, so `validate` starts fast and works without the `[train]` extra's plotting stack.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from training.paths import CANDIDATES_DIR, CONVERSATIONS_DIR, EVAL_FILE, RUNS_DIR, TRAIN_FILE, VALID_FILE


def build_parser(prog: str = "sarah train") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Make Sarah's model: check, split, tune, compare.",
        epilog=(
            f"example:\n  {prog} validate && {prog} split && {prog} finetune --backend local\n\n"
            f"`{prog} COMMAND --help` says more about each command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=f"example:\n  {prog} {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    validate = command(
        "validate",
        "check training files against OpenAI's guidance and ours",
        "validate --strict training/data/train.jsonl",
    )
    validate.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="JSONL files or folders (default: train.jsonl + valid.jsonl, else the conversations)",
    )
    validate.add_argument("--json-report", type=Path, default=RUNS_DIR / "validate.json")
    validate.add_argument("--max-tokens", type=int, default=None, help="per-example token limit (default 65536)")
    validate.add_argument("--model", default=None, help="model whose tokenizer counts (default FINETUNE_BASE_MODEL)")
    validate.add_argument(
        "--eval-file",
        type=Path,
        default=EVAL_FILE,
        help="held-out set that must not leak into the files (default training/data/eval.jsonl)",
    )
    validate.add_argument(
        "--strict",
        action="store_true",
        help="an example over the token limit is an error, not a warning (what CI runs)",
    )

    split = command("split", "seeded, stratified 80/20 split of the conversations", "split --seed 7")
    split.add_argument("--input-dir", type=Path, default=CONVERSATIONS_DIR)
    split.add_argument("--train-out", type=Path, default=TRAIN_FILE)
    split.add_argument("--valid-out", type=Path, default=VALID_FILE)
    split.add_argument("--seed", type=int, default=None, help="default FINETUNE_SEED (42)")
    split.add_argument("--valid-share", type=float, default=0.2)

    finetune = command(
        "finetune", "fine-tune Sarah's model and record its id for the bot", "finetune --backend local --epochs 3"
    )
    finetune.add_argument(
        "--backend", choices=["openai", "azure", "local"], default=None, help="default FINETUNE_BACKEND (openai)"
    )
    # Flags default to None so a backend can refuse one that was given (training.finetune.flags).
    finetune.add_argument(
        "--resume", metavar="JOB_ID", default=None, help="openai/azure: follow an existing job instead"
    )
    finetune.add_argument("--merge", action="store_true", help="local backend: also write merged weights")
    finetune.add_argument("--train", type=Path, default=None, help=f"default {TRAIN_FILE}")
    finetune.add_argument("--valid", type=Path, default=None, help=f"default {VALID_FILE}")
    finetune.add_argument(
        "--model", default=None, help="base model (default FINETUNE_BASE_MODEL; local: LOCAL_BASE_MODEL)"
    )
    finetune.add_argument(
        "--epochs", type=int, default=None, help="default FINETUNE_EPOCHS (local: LOCAL_EPOCHS, else FINETUNE_EPOCHS)"
    )
    finetune.add_argument(
        "--suffix",
        default=None,
        help="default FINETUNE_SUFFIX; local: the run folder's prefix and the name vLLM serves",
    )
    finetune.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help=f"where the CSV, PNG and W&B run go (default {RUNS_DIR}; local: LOCAL_OUTPUT_DIR)",
    )
    finetune.add_argument(
        "--follow-timeout",
        type=float,
        default=None,
        metavar="MINUTES",
        help="openai/azure: stop following after this long (default FINETUNE_FOLLOW_TIMEOUT_MINUTES)",
    )
    finetune.add_argument("--env-file", type=Path, default=Path(".env"), help="where SARAH_MODEL is recorded")
    finetune.add_argument(
        "--force-promote",
        action="store_true",
        help="record SARAH_MODEL without the promotion gate (which plays the scenarios with the current and new model)",
    )
    finetune.add_argument(
        "--gate-tries", type=int, default=3, help="tries of each scenario per model in the promotion gate (default 3)"
    )

    evaluate = command(
        "evaluate", "compare two models on the held-out set", "evaluate --a offline --b openai:gpt-4.1-mini --limit 20"
    )
    evaluate.add_argument(
        "--a",
        required=True,
        metavar="SPEC",
        help="offline | openai:<model> | url:<base_url>#<model> | local:<adapter dir>",
    )
    evaluate.add_argument("--b", required=True, metavar="SPEC")
    evaluate.add_argument("--report", type=Path, default=RUNS_DIR / "evaluation.md", help=".md or .html")
    evaluate.add_argument("--judge", metavar="SPEC", default=None, help="an LLM judge (openai:… or url:…)")
    evaluate.add_argument("--eval-file", type=Path, default=EVAL_FILE)
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N items")
    evaluate.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write each side's rates (fractions) here"
    )

    harvest = commands.add_parser("harvest", help="resolved hand-offs → training candidates for a person to approve")
    harvest.add_argument("--redis-url", default=None, help="the bot's Redis (default REDIS_URL)")
    harvest.add_argument(
        "--out", type=Path, default=None, help=f"default {CANDIDATES_DIR}/harvest-<date>.jsonl (relative to the repo)"
    )
    harvest.add_argument(
        "--names", type=Path, default=None, help="a file of names to redact, one per line (e.g. the team's roster)"
    )

    gaps = commands.add_parser("gaps", help="knowledge-base sections that most often end in a hand-off")
    gaps.add_argument("--redis-url", default=None, help="the bot's Redis (default REDIS_URL)")
    gaps.add_argument("--top", type=int, default=15, help="how many sections to show (default 15)")
    gaps.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write every section's counts here")

    from training.episodes.arguments import add_arguments

    add_arguments(
        commands.add_parser("episodes", help="play support scenarios with a simulated customer: task success, pass^k"),
        commands.add_parser("gate", help="record a new SARAH_MODEL only if the episodes say it is no worse"),
    )
    return parser


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for any tool whose reader went away


def main(argv: list[str] | None = None, prog: str = "sarah train") -> int:
    """Run one subcommand; a reader that goes away (`sarah train split | head`) ends it quietly."""
    try:
        code = _main(argv, prog)
        sys.stdout.flush()  # a pipe's buffered output fails here, inside the try, not at exit
        return code
    except BrokenPipeError:
        # Python's recipe: point stdout at /dev/null so the interpreter's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None, prog: str) -> int:
    args = build_parser(prog).parse_args(argv)
    from config.errors import SettingsError

    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "split":
            return _split(args)
        if args.command == "finetune":
            from training.finetune import run_finetune

            return run_finetune(args)
        if args.command == "evaluate":
            from training.evaluate import run_evaluate

            return run_evaluate(args)
        if args.command in ("harvest", "gaps"):
            from training.harvest_cli import run_gaps, run_harvest

            redis_url = args.redis_url or _settings_or_default("redis_url", None)
            if not redis_url:
                print("Give the bot's Redis with --redis-url or REDIS_URL.", file=sys.stderr)
                return 2
            return run_harvest(args, redis_url) if args.command == "harvest" else run_gaps(args, redis_url)
        if args.command == "episodes":
            from training.episodes.command import run_episodes

            return run_episodes(args)
        if args.command == "gate":
            from training.episodes.command import run_gate

            return run_gate(args)
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"Not found: {error.filename or error}", file=sys.stderr)
        return 2
    return 2


def _validate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from training.tokens import DEFAULT_MAX_TOKENS
    from training.validate import validate_files
    from training.validate_report import render, write_json_report

    files = _input_files(args.files)
    if not files:
        print("No training files: run `sarah train split` or name the files.", file=sys.stderr)
        return 2
    model = args.model or _settings_or_default("finetune_base_model", "gpt-4.1-mini-2025-04-14")
    report = validate_files(
        files,
        model=model,
        max_tokens=args.max_tokens or DEFAULT_MAX_TOKENS,
        eval_path=args.eval_file,
        strict=args.strict,
    )
    write_json_report(report, args.json_report)  # first: a reader that goes away must not lose it
    console = Console(soft_wrap=True)
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]  # rich would exit 1: "bad data"
    render(report, console)
    print(f"JSON report: {args.json_report}")
    return 0 if report.ok else 1


def _broken_pipe() -> None:
    raise BrokenPipeError


def _input_files(given: list[Path]) -> list[Path]:
    """The files to check, shown relative to the working directory when they are under it."""
    if not given:
        if TRAIN_FILE.exists() and VALID_FILE.exists():
            return [_short(TRAIN_FILE), _short(VALID_FILE)]
        return [_short(p) for p in sorted(CONVERSATIONS_DIR.glob("*.jsonl"))]
    files: list[Path] = []
    for path in given:
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        elif not path.exists():
            raise FileNotFoundError(2, "no such file", str(path))
        else:
            files.append(path)
    return files


def _short(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _split(args: argparse.Namespace) -> int:
    from training.split import split_files

    seed = args.seed if args.seed is not None else _settings_or_default("finetune_seed", 42)
    try:
        result = split_files(args.input_dir, args.train_out, args.valid_out, seed=seed, valid_share=args.valid_share)
    except ValueError as error:
        print(f"{error} (run `sarah train validate` to see every problem)", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{len(result.train)} training examples → {args.train_out}")
    print(f"{len(result.valid)} validation examples → {args.valid_out}")
    for objective in sorted(set(result.train_by_objective) | set(result.valid_by_objective)):
        print(
            f"  {objective}: {result.train_by_objective.get(objective, 0)} train, "
            f"{result.valid_by_objective.get(objective, 0)} valid"
        )
    return 0


def _settings_or_default(name: str, default: Any) -> Any:
    """One training setting, for commands that only need a default from it (settings must be valid)."""
    from config.training import load_training_settings

    return getattr(load_training_settings(), name, default)


if __name__ == "__main__":
    raise SystemExit(main())
