"""Sarah's model, in one home that both the bot and the training pipeline use.

The `Model` implementations (an OpenAI-compatible chat, the offline retrieval model and its parts), the
knowledge base loader and the model's lifetime rules (retirement dates, the fine-tuning deadline) live
here, so `bot/` and `training/` each import this package and never each other. It depends only on
`handlers/` (the `Model` protocol, the prompt's tool) and `config/`.
"""
