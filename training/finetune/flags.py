"""Which `sarah train finetune` flags a backend honours, and the refusal for the ones it cannot.

A flag that is silently ignored is worse than an error: the user believes they tuned for 5 epochs
or wrote to another folder. So every flag either reaches the backend or stops the command (exit 2)
with a sentence naming the flag and the backend. Flags default to None in the parser, so "given"
and "left at the default" can be told apart.
"""

from __future__ import annotations

import argparse
import re

SUFFIX_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
EPOCH_LIMITS = {"openai": 50, "azure": 50, "local": 100}  # FINETUNE_EPOCHS / LOCAL_EPOCHS upper bounds

# flag -> backends that take it; the rest refuse it
ONLY_FOR: dict[str, tuple[str, ...]] = {
    "--resume": ("openai", "azure"),
    "--follow-timeout": ("openai", "azure"),
    "--merge": ("local",),
}
# what each refusal adds after "… is not used by --backend X"
WHY = {
    "--resume": "a local run is not a remote job to follow again: start a new run",
    "--follow-timeout": "a local run is not a remote job to follow",
    "--merge": "merged weights are made only from a local LoRA adapter",
}
# flags that cannot change a job that already exists
NOT_WITH_RESUME = ("--model", "--epochs", "--train", "--valid")


def given_flags(args: argparse.Namespace) -> list[str]:
    """The finetune flags the user actually gave (their value is not the parser's None/False)."""
    names = {
        "--resume": args.resume,
        "--merge": args.merge or None,
        "--model": args.model,
        "--epochs": args.epochs,
        "--suffix": args.suffix,
        "--train": args.train,
        "--valid": args.valid,
        "--out-dir": args.out_dir,
        "--follow-timeout": getattr(args, "follow_timeout", None),
    }
    return [flag for flag, value in names.items() if value is not None]


def flag_refusal(args: argparse.Namespace, backend: str) -> str | None:
    """The sentence that stops the command, or None when every given flag reaches `backend`."""
    given = given_flags(args)
    for flag in given:
        allowed = ONLY_FOR.get(flag)
        if allowed is not None and backend not in allowed:
            return f"{flag} is not used by --backend {backend}: {WHY[flag]}."
    if args.resume:
        clashing = [flag for flag in NOT_WITH_RESUME if flag in given]
        if clashing:
            return (
                f"{', '.join(clashing)} cannot change job {args.resume}, which already exists "
                f"(--backend {backend} --resume only follows it): drop {'them' if len(clashing) > 1 else 'it'}."
            )
    if args.epochs is not None and not 1 <= args.epochs <= EPOCH_LIMITS[backend]:
        return f"--epochs {args.epochs}: --backend {backend} takes 1–{EPOCH_LIMITS[backend]} epochs."
    if args.suffix is not None and not SUFFIX_PATTERN.fullmatch(args.suffix):
        return f"--suffix {args.suffix!r}: use letters, digits, _ and -, up to 64 (--backend {backend})."
    timeout = getattr(args, "follow_timeout", None)
    if timeout is not None and timeout <= 0:
        return f"--follow-timeout {timeout:g}: give the minutes to wait, more than 0 (--backend {backend})."
    return None
