"""The `sarah` command's entry: `sarah train …` goes to the model pipeline, everything else to the bot.

The dispatch lives above both `bot/` and `training/` so neither imports the other: the bot's commands
stay in `bot.cli`, the pipeline's in `training.cli`, and only this module knows both.
"""

from __future__ import annotations

import sys

NEEDS_EXTRA = (
    "sarah train needs the {extra} extra (missing module: {module}): pip install -e '.[{extra}]' "
    "(`scripts/sarah train …` installs the train extra itself)"
)
TRAIN_EXTRA_MODULES = frozenset({"rich", "wandb", "matplotlib"})
LOCAL_EXTRA_MODULES = frozenset({"torch", "transformers", "peft", "trl", "datasets", "accelerate", "tokenizers"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["train"]:
        try:
            from bot.cli import invoked_as
            from training.cli import main as train_main

            return train_main(args[1:], prog=f"{invoked_as()} train")
        except ModuleNotFoundError as error:  # an extra is missing (scripts/sarah installs [train])
            root = (error.name or "").split(".")[0]
            extra = "local" if root in LOCAL_EXTRA_MODULES else "train"
            if root not in LOCAL_EXTRA_MODULES | TRAIN_EXTRA_MODULES:
                raise
            print(NEEDS_EXTRA.format(module=root, extra=extra), file=sys.stderr)
            return 2
    from bot.cli import main as bot_main

    return bot_main(args)
