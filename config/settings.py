"""Every setting Sarah reads, grouped, validated once at start.

Each group is its own `BaseSettings` whose field names are the environment variables (lower-cased),
so an error can always name the variable an admin has to fix. `load_settings()` builds all groups,
collects every problem at once and raises `SettingsError` with one line per variable. Secrets are
`SecretStr`: they print as `**********` and never reach a log or an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import SettingsError, describe_validation_error

_COMMON = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)


class SlackMode(StrEnum):
    SOCKET = "socket"  # SLACK_APP_TOKEN set: Sarah dials out, no public URL needed
    HTTP = "http"  # Slack posts to /slack/events
    LOCAL = "local"  # no Slack tokens: the terminal chat


class SlackSettings(BaseSettings):
    model_config = _COMMON

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    sarah_host: str = "0.0.0.0"
    sarah_port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port
    slack_rate_limit_retries: int = Field(default=5, ge=0, le=20)
    # /healthz, /readyz and /metrics in every role; None: SARAH_PORT (the same server in HTTP mode),
    # SARAH_PORT + 1 for a worker (bot/ports.py)
    sarah_health_port: int | None = Field(default=None, ge=0, le=65535)
    # The workspace and app Sarah serves: learnt at start (auth.test, bots.info) when unset.
    slack_team_id: str | None = None
    slack_app_id: str | None = None
    slack_enterprise_id: str | None = None

    @field_validator("slack_team_id", "slack_app_id", "slack_enterprise_id")
    @classmethod
    def _slack_id_shape(cls, value: str | None, info: Any) -> str | None:
        if value in (None, ""):
            return None
        prefix = {"slack_team_id": "T", "slack_app_id": "A", "slack_enterprise_id": "E"}[info.field_name]
        if not re.fullmatch(prefix + r"[A-Z0-9]{2,}", value):
            raise ValueError(f"must be a Slack id like {prefix}0123ABCD")
        return value

    max_message_chars: int = Field(default=8_000, ge=200, le=40_000)  # the rest is cut off, with a marker
    # Streamed answers (chat.startStream / appendStream / stopStream): start and stop are Tier 2,
    # about 20 calls a minute per workspace, so at most this many answers a minute are streamed.
    stream_answers: bool = True
    stream_answers_per_minute: int = Field(default=8, ge=0, le=10)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with 'xoxb-' (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with 'xapp-' (Basic Information page)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    def dependent_problems(self) -> list[str]:
        """Rules between Slack settings (see `Settings.dependent_problems`)."""
        problems = []
        if self.slack_app_token is not None and self.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN: is required when SLACK_APP_TOKEN is set (Socket Mode)")
        if self.mode is SlackMode.HTTP and self.slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET: is required in HTTP mode (SLACK_BOT_TOKEN set, no SLACK_APP_TOKEN)")
        return problems

    @property
    def mode(self) -> SlackMode:
        if self.slack_bot_token is None:
            return SlackMode.LOCAL
        return SlackMode.SOCKET if self.slack_app_token is not None else SlackMode.HTTP


class ModelSettings(BaseSettings):
    model_config = _COMMON

    sarah_model: str = Field(default="gpt-4.1-mini-2025-04-14", min_length=1)
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    model_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    model_max_retries: int = Field(default=1, ge=0, le=10)
    model_max_reply_tokens: int = Field(default=700, ge=16, le=32_000)
    model_temperature: float = Field(default=0.3, ge=0, le=2)
    prompt_token_budget: int = Field(default=6_000, ge=256, le=1_000_000)

    @field_validator("openai_base_url")
    @classmethod
    def _base_url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://api.openai.com/v1")
        return value

    @property
    def offline(self) -> bool:
        """No API key and no OpenAI-compatible server: Sarah answers with the offline model."""
        return self.openai_api_key is None and self.openai_base_url is None


class RedisSettings(BaseSettings):
    model_config = _COMMON

    redis_url: str | None = None
    redis_max_connections: int = Field(default=64, ge=2, le=10_000)
    stream_max_length: int = Field(default=100_000, ge=1_000)
    sarah_data_dir: Path = Path(".sarah")
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster; the client finds the rest
    redis_sentinels: str | None = None  # host:port,… of Redis Sentinels; they name the master
    redis_sentinel_master: str = Field(default="mymaster", min_length=1)

    @field_validator("redis_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_shape(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        for address in value.split(","):
            host, _, port = address.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    "must be host:port of each Sentinel, comma-separated, e.g. 10.0.0.5:26379,10.0.0.6:26379"
                )
        return value

    def dependent_problems(self) -> list[str]:
        """Rules between Redis settings: one topology, and a cluster needs a node to start from."""
        problems = []
        if self.redis_cluster and self.redis_sentinels:
            problems.append("REDIS_CLUSTER: cannot be combined with REDIS_SENTINELS (a cluster has no Sentinels)")
        if self.redis_cluster and not (self.redis_url or "").startswith(("redis://", "rediss://")):
            problems.append("REDIS_CLUSTER: needs REDIS_URL, a redis:// or rediss:// URL of any node of the cluster")
        return problems

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """REDIS_SENTINELS as (host, port) pairs; empty when Sentinel is not used."""
        pairs = []
        for address in (self.redis_sentinels or "").split(","):
            if address.strip():
                host, _, port = address.strip().rpartition(":")
                pairs.append((host, int(port)))
        return pairs


class RetentionSettings(BaseSettings):
    model_config = _COMMON

    conversation_ttl_days: float = Field(default=30, gt=0, le=3650)
    dedupe_ttl_hours: float = Field(default=48, gt=0, le=24 * 90)
    max_stored_turns: int = Field(default=200, ge=4, le=10_000)
    # top-level DMs continue the customer's conversation until it is idle this long
    dm_conversation_idle_minutes: float = Field(default=120, gt=0, le=30 * 24 * 60)

    @property
    def conversation_ttl_seconds(self) -> int:
        return int(self.conversation_ttl_days * 86_400)

    @property
    def dedupe_ttl_seconds(self) -> int:
        return int(self.dedupe_ttl_hours * 3_600)


class WorkerSettings(BaseSettings):
    model_config = _COMMON

    sarah_role: Literal["all", "ingress", "worker"] = "all"
    worker_concurrency: int = Field(default=500, ge=1, le=100_000)
    worker_read_batch: int = Field(default=100, ge=1, le=10_000)
    thread_lease_seconds: float = Field(default=15, ge=2, le=3_600)
    reclaim_idle_seconds: float = Field(default=30, ge=5, le=86_400)
    coalesce_seconds: float = Field(default=0.3, ge=0, le=30)
    max_redrafts: int = Field(default=2, ge=0, le=10)
    hold_unknown_thread_seconds: float = Field(default=120, ge=0, le=3_600)
    dead_letter_after_passes: int = Field(default=5, ge=1, le=100)
    consumer_idle_remove_seconds: float = Field(default=3_600, ge=60, le=30 * 86_400)
    worker_stale_seconds: float = Field(default=30, ge=2, le=3_600)


class HandoffSettings(BaseSettings):
    """When Sarah hands a thread to people, and who those people are."""

    model_config = _COMMON

    handoff_after_failures: int = Field(default=3, ge=1, le=100)
    handoff_count: Literal["total", "consecutive"] = "total"
    support_channel: str | None = None
    support_usergroup: str | None = None
    handoff_reminder_minutes: float = Field(default=15, gt=0, le=7 * 24 * 60)
    support_team_cache_seconds: float = Field(default=60, ge=0, le=3_600)
    handoff_max_reminders: int = Field(default=4, ge=0, le=1_000)

    @field_validator("support_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
            raise ValueError("must be a channel id like C0123ABCD (channel details → About), not a name")
        return value

    @field_validator("support_usergroup")
    @classmethod
    def _usergroup_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.fullmatch(r"S[A-Z0-9]{2,}", value):
            raise ValueError("must be a user group id like S0123ABCD")
        return value


class LimitSettings(BaseSettings):
    """Per-person limits, so one person (or a script) cannot flood Sarah, the team or Redis."""

    model_config = _COMMON

    user_messages_per_minute: int = Field(default=20, ge=1, le=10_000)
    user_max_open_threads: int = Field(default=10, ge=1, le=10_000)


class TextSettings(BaseSettings):
    """Everything Sarah says that does not come from the model, so admins can change it."""

    model_config = _COMMON

    text_thinking: str = Field(default="_Sarah is typing…_", min_length=1)
    text_apology: str = Field(
        default=(
            "Sorry, I couldn't reach my knowledge right now. Please send your message again in a "
            "minute, or say *human* to talk to our support team."
        ),
        min_length=1,
    )
    text_cannot_resolve: str = Field(
        default=(
            "I'm sorry, I couldn't solve that one yet. Could you tell me a little more, such as what you "
            "see on the device right now? You can also say *human* to reach our support team."
        ),
        min_length=1,
    )
    text_not_helped: str = Field(default="Sorry that didn't help. What happened when you tried it?", min_length=1)
    text_handoff: str = Field(
        default=(
            "I'm handing this conversation to our support team. A person will reply right here in this "
            "thread, usually within a few hours; you don't need to do anything else. Anything you add "
            "here meanwhile goes to them."
        ),
        min_length=1,
    )
    text_agent_joined: str = Field(
        default="{agent} from the ZenNest support team has joined and will help you from here.", min_length=1
    )
    text_back_to_sarah: str = Field(
        default="Our support team has handed this conversation back to me, Sarah. How else can I help?",
        min_length=1,
    )
    text_resolved: str = Field(
        default=(
            "Our support team has marked this conversation as resolved. If anything else comes up, just "
            "write here and I'll pick it up."
        ),
        min_length=1,
    )
    text_files_only: str = Field(
        default=("Thanks for the file! I can only read text, so could you describe what you see in a sentence or two?"),
        min_length=1,
    )
    text_claimed_action: str = Field(
        default=(
            "I can't see or change your devices, home or account myself, so I can't do that for you. "
            "I can walk you through the steps, or say *human* and our support team will take it from here."
        ),
        min_length=1,
    )
    link_allowed_domains: str = "zennest.com,help.zennest.com"

    @field_validator("link_allowed_domains")
    @classmethod
    def _domains(cls, value: str) -> str:
        for domain in (d.strip() for d in value.split(",")):
            if domain and not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", domain.lower()):
                raise ValueError(
                    f"{domain!r} is not a domain name: use a comma-separated list like zennest.com,help.zennest.com"
                )
        return value

    @property
    def link_domains(self) -> tuple[str, ...]:
        """Domains (and their subdomains) whose links stay clickable in Sarah's answers."""
        return tuple(d.strip().lower() for d in self.link_allowed_domains.split(",") if d.strip())

    text_status: str = Field(default="is typing…", min_length=1, max_length=200)
    text_loading_messages: str = Field(
        default=(
            "Checking the ZenNest guides…|Asking the hub what it has been up to…|"
            "Looking through the thermostat manual…|Warming up an answer…"
        ),
        min_length=1,
    )
    text_stream_stopped: str = Field(
        default="_I'll stop here: someone from our support team is taking over this conversation._",
        min_length=1,
    )

    @field_validator("text_loading_messages")
    @classmethod
    def _loading_messages(cls, value: str) -> str:
        messages = [m.strip() for m in value.split("|") if m.strip()]
        if not messages or len(messages) > 10 or any(len(m) > 150 for m in messages):
            raise ValueError("must be 1 to 10 lines separated by |, each at most 150 characters")
        return value

    @property
    def loading_messages(self) -> list[str]:
        """The rotating lines of Slack's native loading status (assistant.threads.setStatus)."""
        return [m.strip() for m in self.text_loading_messages.split("|") if m.strip()]

    text_message_cut: str = Field(
        default="_(Your message was very long, so I read only its first {limit} characters.)_",
        min_length=1,
    )
    suggested_prompts_title: str = Field(
        default="Hi, I'm Sarah from ZenNest. How can I help?", min_length=1, max_length=150
    )
    # separated by "|"; each is both the button's label and the message it sends
    suggested_prompts: str = "Set up my ZenHub|Why is my camera offline?|Talk to a person"
    text_files_shared: str = Field(
        default=(
            "_I can't open files myself. If our support team takes this conversation over, they'll see a "
            "link to what you shared._"
        ),
        min_length=1,
    )

    @field_validator("suggested_prompts")
    @classmethod
    def _prompts(cls, value: str) -> str:
        prompts = [p.strip() for p in value.split("|") if p.strip()]
        if len(prompts) > 4:
            raise ValueError(f"has {len(prompts)} prompts: Slack shows at most 4 (separate them with |)")
        for prompt in prompts:
            if len(prompt) > 100:
                raise ValueError(f"{prompt[:30]!r}… is longer than 100 characters")
        return value

    @property
    def prompts(self) -> tuple[str, ...]:
        """The suggested prompts, in order (none: Sarah sets no prompts)."""
        return tuple(p.strip() for p in self.suggested_prompts.split("|") if p.strip())


class LogSettings(BaseSettings):
    model_config = _COMMON

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for log shippers
    # Set: a span per pass and per model call goes to this OTLP/HTTP collector (the `otel` extra)
    otel_exporter_otlp_endpoint: str | None = None

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _otlp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL of an OTLP/HTTP collector, e.g. http://otel-collector:4318")
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Settings:
    """All of Sarah's settings; built by `load_settings`, then passed to whoever needs them."""

    slack: SlackSettings
    model: ModelSettings
    redis: RedisSettings
    retention: RetentionSettings
    worker: WorkerSettings
    handoff: HandoffSettings
    texts: TextSettings
    log: LogSettings
    limits: LimitSettings

    def __post_init__(self) -> None:
        problems = self.dependent_problems()
        if problems:
            raise SettingsError(problems)

    def dependent_problems(self) -> list[str]:
        """Every rule that spans two settings, checked together so an admin fixes them in one round."""
        return dependent_problems(self.slack, self.redis, self.worker, self.handoff, self.texts)


def dependent_problems(
    slack: SlackSettings, redis: RedisSettings, worker: WorkerSettings, handoff: HandoffSettings, texts: TextSettings
) -> list[str]:
    """The rules between settings. `load_settings` runs them even when some values were refused,
    on groups where the default stands in for each refused value."""
    problems = [*slack.dependent_problems(), *redis.dependent_problems()]
    if slack.mode is not SlackMode.LOCAL and handoff.support_channel is None:
        problems.append("SUPPORT_CHANNEL: is required with Slack: the channel id where Sarah posts hand-off cards")
    if "{agent}" not in texts.text_agent_joined:
        problems.append("TEXT_AGENT_JOINED: must contain {agent}, where the agent's name goes")
    if worker.reclaim_idle_seconds <= worker.thread_lease_seconds:
        problems.append(
            "RECLAIM_IDLE_SECONDS: must be longer than THREAD_LEASE_SECONDS, or a crashed "
            "worker's messages are taken over while its lease still blocks their thread"
        )
    return problems


SETTINGS_GROUPS: dict[str, type[BaseSettings]] = {
    "slack": SlackSettings,
    "model": ModelSettings,
    "redis": RedisSettings,
    "retention": RetentionSettings,
    "worker": WorkerSettings,
    "handoff": HandoffSettings,
    "texts": TextSettings,
    "log": LogSettings,
    "limits": LimitSettings,
}
"""Each field of `Settings` and the group class that reads it from the environment (tests, bench, docs)."""


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Read the environment (and `env_file` if it exists); raise `SettingsError` naming each bad variable.

    `overrides` take a group name and a dict of field values, e.g. `model={"sarah_model": "x"}`;
    tests and the CLI use them instead of touching `os.environ`.
    """
    groups: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for name, group in SETTINGS_GROUPS.items():
        values = overrides.get(name, {})
        try:
            groups[name] = group(_env_file=env_file, **values)
        except ValidationError as error:
            problems.extend(describe_validation_error(error))
            # The group again with each refused value at its default, so the rules between
            # settings can still be checked in this round.
            refused = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
            defaults = {f: group.model_fields[f].get_default(call_default_factory=True) for f in refused}
            groups[name] = group(_env_file=env_file, **{**values, **defaults})
    if not problems:
        return Settings(**groups)  # type: ignore[arg-type]
    refused_names = {p.split(":", 1)[0] for p in problems}
    g: dict[str, Any] = groups
    for problem in dependent_problems(g["slack"], g["redis"], g["worker"], g["handoff"], g["texts"]):
        # a rule that names a refused variable was judged on that variable's default: not reported
        if not any(re.search(rf"\b{name}\b", problem) for name in refused_names):
            problems.append(problem)
    raise SettingsError(problems)
