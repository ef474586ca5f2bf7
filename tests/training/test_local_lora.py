"""The local LoRA backend, for real: a tiny Qwen2 model is tuned on CPU on a slice of Sarah's data.

Nothing is downloaded: the base model and its tokenizer are built from our own conversations
(sarah_testing/tiny_model.py). These tests need the `[local]` extra and fail without it (CI installs it).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config.errors import SettingsError
from config.training_local import LocalTrainingSettings, load_local_training_settings
from handlers.model import Conversation, Outcome, Reply, Turn
from handlers.prompt import HANDOFF_TOOL_NAME, SYSTEM_PROMPT
from sarah_testing.tiny_model import (
    build_tiny_model,
    conversation_records,
    plain_template,
    write_jsonl,
)
from sarah_testing.wandb_records import read_run
from training.results import RESULT_COLUMNS, read_results_csv

REPO = Path(__file__).resolve().parents[2]
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
TRAIN_EXAMPLES, VALID_EXAMPLES = 24, 8


@pytest.fixture(scope="module", autouse=True)
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Hugging Face never goes to the network, W&B stays offline in a temp dir, no LOCAL_* leaks in."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OFFLINE.items():
            patch.setenv(name, value)
        for name in LocalTrainingSettings.model_fields:
            patch.delenv(name.upper(), raising=False)
        patch.setenv("WANDB_MODE", "offline")
        patch.setenv("WANDB_SILENT", "true")
        patch.setenv("WANDB_DIR", str(tmp_path_factory.mktemp("wandb")))
        patch.delenv("WANDB_API_KEY", raising=False)
        yield


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"), conversation_records())


def _settings(base: Path, out: Path, **overrides: Any) -> LocalTrainingSettings:
    values: dict[str, Any] = {
        "local_base_model": str(base),
        "local_output_dir": out,
        "local_epochs": 4,
        "local_learning_rate": 1e-2,
        "local_lora_rank": 8,
        "local_lora_alpha": 16,
        "local_lora_dropout": 0.0,
        "local_max_length": 1024,
        "local_batch_size": 4,
        "local_seed": 7,
        "local_device": "cpu",
    }
    return load_local_training_settings(None, **{**values, **overrides})


@dataclass(frozen=True)
class Tuned:
    result: Any  # LocalFinetuneResult
    train: Path
    valid: Path
    base: Path
    progress_text: str
    settings: LocalTrainingSettings


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """A tiny model gains nothing from threads, and on a busy CI box they wait on each other (5x slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tuned(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory, one_torch_thread: None) -> Tuned:
    from training.local import run_local_finetune
    from training.progress import Progress

    folder = tmp_path_factory.mktemp("local-run")
    records = conversation_records(TRAIN_EXAMPLES + VALID_EXAMPLES)
    train = write_jsonl(records[VALID_EXAMPLES:], folder / "train.jsonl")
    valid = write_jsonl(records[:VALID_EXAMPLES], folder / "valid.jsonl")
    settings = _settings(tiny_base, folder / "runs")
    screen = io.StringIO()
    with Progress("Local LoRA fine-tune", stream=screen, live=False) as progress:
        result = run_local_finetune(train, valid, settings, progress, merge=True, wandb_project="sarah-local-test")
    return Tuned(result, train, valid, tiny_base, screen.getvalue(), settings)


# -- settings and the extra: no torch needed --------------------------------------------------------


def test_a_bad_local_setting_names_its_variable() -> None:
    with pytest.raises(SettingsError) as raised:
        load_local_training_settings(None, local_epochs=0, local_learning_rate=-1, local_device="tpu")
    text = str(raised.value)
    assert "LOCAL_EPOCHS" in text and "LOCAL_LEARNING_RATE" in text and "LOCAL_DEVICE" in text


def test_local_settings_read_the_environment_and_the_shared_training_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCAL_LORA_RANK", "32")
    monkeypatch.setenv("LOCAL_BASE_MODEL", "  /models/qwen  ")
    assert load_local_training_settings(None).local_lora_rank == 32
    assert load_local_training_settings(None).local_base_model == "/models/qwen"

    monkeypatch.setenv("FINETUNE_EPOCHS", "5")  # unset LOCAL_EPOCHS / LOCAL_SEED: the shared settings
    monkeypatch.setenv("FINETUNE_SEED", "9")
    local = load_local_training_settings(None)
    assert (local.local_epochs, local.local_seed, local.local_lora_rank) == (5, 9, 32)

    monkeypatch.setenv("LOCAL_EPOCHS", "2")  # the backend's own variable wins over FINETUNE_EPOCHS
    assert load_local_training_settings(None).local_epochs == 2


def test_without_the_extra_the_import_error_says_what_to_install() -> None:
    code = "import sys; sys.modules['trl'] = None\nimport training.local"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "requirements/torch.txt" in done.stderr
    assert "trl" in done.stderr


# -- what the model learns from ---------------------------------------------------------------------


def _trained_text(tokenizer: Any, labels: list[int]) -> str:
    return str(tokenizer.decode([t for t in labels if t != -100]))


def _handoff_record() -> dict[str, Any]:
    return next(
        r
        for r in conversation_records()
        if any(m.get("tool_calls") for m in r["messages"]) and sum(m["role"] == "assistant" for m in r["messages"]) > 1
    )


@pytest.mark.local_training
def test_only_assistant_turns_are_trained_including_the_handoff_call(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    from training.local.data import to_example
    from training.local.masking import choose_masking, tokenize_examples

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    record = _handoff_record()
    masking = choose_masking(tokenizer)
    (row,) = tokenize_examples(tokenizer, [to_example(record)], masking, 4096).rows
    trained = _trained_text(tokenizer, row["labels"])

    assert masking.method == "template"
    for message in record["messages"]:
        if message["role"] in ("system", "user"):
            assert message["content"] not in trained
        elif message.get("content"):
            assert message["content"] in trained
    assert f'<tool_call>{{"name": "{HANDOFF_TOOL_NAME}", "arguments": {{"reason": ' in trained
    assert trained.count("<|im_end|>") == sum(m["role"] == "assistant" for m in record["messages"])  # learns to stop


@pytest.mark.local_training
def test_a_weight_zero_turn_is_shown_but_not_trained(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    from training.local.data import to_example
    from training.local.masking import choose_masking, tokenize_examples

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    record = json.loads(json.dumps(_handoff_record()))
    first = next(m for m in record["messages"] if m["role"] == "assistant")
    first["weight"] = 0
    tokenized = tokenize_examples(tokenizer, [to_example(record)], choose_masking(tokenizer), 4096)
    (row,) = tokenized.rows

    assert first["content"] not in _trained_text(tokenizer, row["labels"])
    assert first["content"] in tokenizer.decode(row["input_ids"])  # still in the context the model reads
    assert "handoff_to_human" in _trained_text(tokenizer, row["labels"])
    assert tokenized.excluded_turns == 1


@pytest.mark.local_training
def test_a_template_without_generation_markers_is_masked_the_same_way(tiny_base: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from training.local.data import to_example
    from training.local.masking import Masking, choose_masking, tokenize_examples

    marked = AutoTokenizer.from_pretrained(tiny_base)
    plain = AutoTokenizer.from_pretrained(tiny_base)
    plain.chat_template = plain_template()
    examples = [to_example(r) for r in conversation_records(6)]

    assert choose_masking(plain) == Masking("prefix")
    assert tokenize_examples(plain, examples, Masking("prefix"), 4096) == tokenize_examples(
        marked, examples, Masking("template"), 4096
    )


@pytest.mark.local_training
def test_the_trainer_learns_from_exactly_these_labels(tiny_base: Path, tmp_path: Path) -> None:
    from training.local.data import to_example
    from training.local.masking import choose_masking, tokenize_examples
    from training.local.trainer import build_trainer, load_base
    from training.progress import Progress

    tokenizer, model = load_base(str(tiny_base), "cpu")
    tokenized = tokenize_examples(tokenizer, [to_example(_handoff_record())], choose_masking(tokenizer), 4096)
    trainer, _ = build_trainer(
        model,
        tokenizer,
        tokenized.rows,
        [],
        _settings(tiny_base, tmp_path),
        device="cpu",
        work_dir=tmp_path / "work",
        progress=Progress(stream=io.StringIO(), live=False),
    )
    batch = next(iter(trainer.get_train_dataloader()))

    assert batch["labels"][0].tolist() == tokenized.rows[0]["labels"]  # TRL neither rebuilds nor unmasks them


@pytest.mark.local_training
def test_the_handoff_the_model_is_taught_to_write_is_read_back_as_a_handoff(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    from training.local.data import to_example
    from training.local.masking import choose_masking, tokenize_examples
    from training.local.toolcalls import reply_from_output

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    record = _handoff_record()
    (row,) = tokenize_examples(tokenizer, [to_example(record)], choose_masking(tokenizer), 4096).rows
    last_turn = _trained_text(tokenizer, row["labels"]).split("<|im_end|>")[-2]
    call = json.loads(record["messages"][-1]["tool_calls"][0]["function"]["arguments"])

    reply = reply_from_output(last_turn)

    assert (reply.outcome, reply.reason, reply.summary) == (Outcome.HANDOFF, call["reason"], call["summary"])


@pytest.mark.local_training
@pytest.mark.parametrize(
    ("output", "outcome", "reason"),
    [
        ("Open the app, then tap Devices.", Outcome.ANSWERED, ""),
        (
            'Let me get a person.\n<tool_call>\n{"name": "handoff_to_human", "arguments": '
            '{"reason": "steps_failed", "summary": "Lock offline after reset."}}\n</tool_call>',
            Outcome.HANDOFF,
            "steps_failed",
        ),
        (
            '<tool_call>{"name": "handoff_to_human", "arguments": "{\\"reason\\": \\"customer_asked\\"}"}',
            Outcome.HANDOFF,
            "customer_asked",
        ),  # arguments as a JSON string, closing tag cut off
        ('{"name": "handoff_to_human", "parameters": {"reason": "made_up"}}', Outcome.HANDOFF, "unknown_answer"),
        ("<tool_call>{not json handoff_to_human</tool_call>", Outcome.HANDOFF, "unknown_answer"),
        ('<tool_call>{"name": "reset_lock", "arguments": {}}</tool_call>', Outcome.UNAVAILABLE, "unknown_tool_call"),
        ("   ", Outcome.UNAVAILABLE, "empty"),
    ],
)
def test_model_output_becomes_a_reply(output: str, outcome: Outcome, reason: str) -> None:
    from training.local.toolcalls import reply_from_output

    reply = reply_from_output(output)
    assert (reply.outcome, reply.reason) == (outcome, reason)
    assert "<tool_call>" not in reply.text


# -- a real run -------------------------------------------------------------------------------------


@pytest.mark.local_training
def test_the_loss_falls_and_is_recorded_in_openai_result_columns(tuned: Tuned) -> None:
    rows = read_results_csv(tuned.result.csv_path)
    header = tuned.result.csv_path.read_text(encoding="utf-8").splitlines()[0]
    train = [r["train_loss"] for r in rows if r["train_loss"] is not None]
    valid = [r["valid_loss"] for r in rows if r["valid_loss"] is not None]

    assert header.split(",") == RESULT_COLUMNS
    assert len(train) == rows[-1]["step"] == 24  # 24 examples / batch 4 × 4 epochs, one row per step
    assert train[-1] < train[0] - 0.3
    assert len(valid) >= 5 and valid[-1] < valid[0]
    assert rows[-1]["full_valid_loss"] is not None and rows[-1]["full_valid_loss"] < train[0]
    assert tuned.result.losses.full_valid_loss == rows[-1]["full_valid_loss"]
    assert tuned.result.png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.local_training
def test_progress_shows_steps_loss_and_time_left(tuned: Tuned) -> None:
    text = tuned.progress_text
    assert "status: training" in text and "status: done" in text
    assert re.search(r"step 1/24 · loss \d+\.\d{4}", text)
    assert re.search(r"step 12/24 · loss \d+\.\d{4} · about \d+s left", text)
    assert "valid loss" in text and "{% generation %}" in text  # the masking used is said once
    assert "{'loss'" not in text  # the trainer's own log dicts are not printed under the display


@pytest.mark.local_training
def test_the_run_folder_is_versioned_and_complete(tuned: Tuned) -> None:
    result = tuned.result
    assert re.fullmatch(r"sarah-\d{8}T\d{6}Z", result.output_dir.name)
    assert result.output_dir.parent == tuned.settings.local_output_dir
    names = {p.name for p in result.output_dir.iterdir()}
    assert {"adapter", "merged", "results.csv", "loss.png", "model_card.md", "model_card.json"} <= names
    assert "checkpoints" not in names
    adapter = {p.name for p in result.adapter_dir.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= adapter
    assert (result.merged_dir / "config.json").exists() and list(result.merged_dir.glob("*.safetensors"))
    assert str(result).startswith(str(result.output_dir))


@pytest.mark.local_training
def test_the_model_card_ties_the_adapter_to_its_data_settings_and_losses(tuned: Tuned) -> None:
    card = json.loads((tuned.result.output_dir / "model_card.json").read_text(encoding="utf-8"))
    markdown = tuned.result.card_path.read_text(encoding="utf-8")

    for name, path in (("train", tuned.train), ("valid", tuned.valid)):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert card["data"][name]["sha256"] == digest and digest in markdown
    assert card["data"]["train"]["examples"] == TRAIN_EXAMPLES
    assert card["base_model"] == str(tuned.base) and f"base_model: {tuned.base}" in markdown
    assert card["hyperparameters"] | tuned.settings.hyperparameters() == card["hyperparameters"]
    assert card["losses"]["full_valid_loss"] == tuned.result.losses.full_valid_loss
    assert card["losses"]["train_loss"] < card["losses"]["first_train_loss"]
    assert {"torch", "transformers", "peft", "trl", "datasets"} <= set(card["library_versions"])
    assert card["created_at"].startswith(tuned.result.output_dir.name[6:10])  # the year, in the folder name too


@pytest.mark.local_training
def test_the_adapter_loads_back_changes_the_model_and_generates(tuned: Tuned) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tuned.result.adapter_dir)
    base = AutoModelForCausalLM.from_pretrained(tuned.base)
    inputs = tokenizer.apply_chat_template(
        [{"role": "user", "content": "My ZenLock is offline"}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        before = base(**inputs).logits
        model = PeftModel.from_pretrained(base, tuned.result.adapter_dir).eval()
        after = model(**inputs).logits
        generated = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        merged = AutoModelForCausalLM.from_pretrained(tuned.result.merged_dir)(**inputs).logits

    assert not torch.allclose(before, after)  # the adapter is not a no-op
    assert torch.allclose(after, merged, atol=1e-4)  # merged weights answer like base + adapter
    assert generated.shape[1] > inputs["input_ids"].shape[1]


@pytest.mark.local_training
def test_the_offline_wandb_run_holds_the_losses(tuned: Tuned) -> None:
    assert tuned.result.wandb_dir is not None
    history, summary = read_run(tuned.result.wandb_dir)
    rows = read_results_csv(tuned.result.csv_path)

    logged = [h["train_loss"] for h in history if "train_loss" in h]
    assert logged == pytest.approx([r["train_loss"] for r in rows])
    assert summary["final_full_valid_loss"] == pytest.approx(tuned.result.losses.full_valid_loss)


@pytest.mark.local_training
async def test_local_adapter_model_answers_without_blocking_the_event_loop(tuned: Tuned) -> None:
    from training.local import LocalAdapterModel

    model = LocalAdapterModel(tuned.result.output_dir, max_new_tokens=16)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    beating = asyncio.create_task(heartbeat())
    conversation = Conversation(SYSTEM_PROMPT, (Turn("user", "Can I talk to a person please?"),))
    try:
        reply = await model.reply(conversation)
    finally:
        beating.cancel()

    assert isinstance(reply, Reply) and reply.outcome in set(Outcome)
    assert reply.usage["prompt_tokens"] > 100 and 0 < reply.usage["completion_tokens"] <= 16  # prompt has the tool
    assert model.name == f"local:{tuned.result.output_dir.name}"
    assert ticks > 3


@pytest.mark.local_training
def test_a_base_model_that_cannot_be_loaded_is_one_clear_error(tmp_path: Path, tuned: Tuned) -> None:
    from training.local import LocalFinetuneError, run_local_finetune
    from training.progress import Progress

    settings = _settings(tmp_path / "no-such-model", tmp_path / "runs")
    with pytest.raises(LocalFinetuneError, match="LOCAL_BASE_MODEL="):
        run_local_finetune(tuned.train, tuned.valid, settings, Progress(stream=io.StringIO(), live=False))
    assert not (tmp_path / "runs").exists()  # no half-made run folder


@pytest.mark.parametrize("rank", ["12", "48", "500", "0"])
def test_a_lora_rank_vllm_cannot_serve_is_refused_naming_the_variable_and_the_ranks_it_serves(
    monkeypatch: pytest.MonkeyPatch, rank: str
) -> None:
    monkeypatch.setenv("LOCAL_LORA_RANK", rank)
    with pytest.raises(SettingsError) as raised:
        load_local_training_settings(None)
    text = str(raised.value)
    assert "LOCAL_LORA_RANK" in text and "8, 16, 32, 64, 128, 256, 320, 512" in text


@pytest.mark.parametrize("rank", [8, 16, 32, 64, 128, 256, 320, 512])
def test_every_rank_vllm_serves_is_accepted(monkeypatch: pytest.MonkeyPatch, rank: int) -> None:
    monkeypatch.setenv("LOCAL_LORA_RANK", str(rank))
    assert load_local_training_settings(None).local_lora_rank == rank
