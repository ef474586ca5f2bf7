"""The `sarah` command's entry: `sarah train …` goes to the model pipeline, everything else to the bot.

The dispatch lives above both `bot/` and `training/` so neither imports the other: the bot's commands
stay in `bot.cli.main`, the pipeline's in `training.cli`, and only this module knows both.
"""

from __future__ import annotations

import sys

NEEDS_EXTRA = (
    "sarah train needs {module}, which is not installed: run it as `scripts/sarah train …`, which installs "
    "{lock} (the locked set)"
)
TRAIN_EXTRA_MODULES = frozenset({"rich", "wandb", "matplotlib"})
LOCAL_EXTRA_MODULES = frozenset({"torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["train"]:
        try:
            from bot.cli.main import invoked_as
            from training.cli import main as train_main

            return train_main(args[1:], prog=f"{invoked_as()} train")
        except ModuleNotFoundError as error:  # a training package is missing (scripts/sarah installs them)
            root = (error.name or "").split(".")[0]
            lock = (
                "requirements/test.txt and requirements/torch.txt"
                if root in LOCAL_EXTRA_MODULES
                else "requirements/train.txt"
            )
            if root not in LOCAL_EXTRA_MODULES | TRAIN_EXTRA_MODULES:
                raise
            print(NEEDS_EXTRA.format(module=root, lock=lock), file=sys.stderr)
            return 2
    from bot.cli.main import main as bot_main

    return bot_main(args)
