"""Every setting Sarah reads, grouped, validated once at start.

Each group is its own `BaseSettings` whose field names are the environment variables (lower-cased),
so an error can always name the variable an admin has to fix. `load_settings()` builds all groups,
collects every problem at once and raises `SettingsError` with one line per variable. Secrets are
`SecretStr`: they print as `**********` and never reach a log or an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
    """How Sarah reaches Slack: the tokens decide the mode (terminal chat, Socket Mode or HTTP)."""

    model_config = _COMMON

    slack_bot_token: SecretStr | None = Field(
        default=None,
        description="Bot token (xoxb-…), OAuth & Permissions page. Unset: Sarah opens a chat in the terminal.",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret (Basic Information). Required in HTTP mode."
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        description="App-level token (xapp-…, scope connections:write). Set: Socket Mode, no public URL needed.",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack's Web API base URL (tests point it at a fake)."
    )
    sarah_host: str = Field(default="0.0.0.0", description="HTTP mode: the address to listen on.")
    sarah_port: int = Field(
        default=3000,
        ge=0,
        le=65535,
        description=(
            "HTTP mode: the port (Slack posts to /slack/events; /healthz for load balancers). 0: any free port."
        ),
    )
    slack_rate_limit_retries: int = Field(
        default=5, ge=0, le=20, description="How often a Slack call answered 429 is retried after Retry-After."
    )
    sarah_health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description=(
            "/healthz, /readyz and /metrics in every role (Socket Mode and workers too). Unset: SARAH_PORT "
            "(in HTTP mode the same server as /slack/events, without /metrics), SARAH_PORT + 1 for a worker. "
            "0: a free port of its own."
        ),
    )
    sarah_metrics_on_slack_port: bool = Field(
        default=False,
        description=(
            "HTTP mode: also serve /metrics on SARAH_PORT, the port Slack reaches (anyone who can reach "
            "/slack/events could read it)."
        ),
    )
    http_idle_timeout_seconds: float = Field(
        default=75.0,
        ge=1,
        le=600,
        description=(
            "HTTP mode: a connection with no request in flight is closed after this, and a new one must send "
            "its headers within it. Keep it longer than the idle timeout of whatever sends to Sarah (load "
            "balancers: 60 s; HTTP clients: 15 s), or they send on a connection Sarah is closing."
        ),
    )
    http_read_timeout_seconds: float = Field(
        default=5.0,
        ge=0.5,
        le=60,
        description=(
            "HTTP mode: once a request's headers have arrived, its body must arrive within this, or it is answered "
            "408 and the connection closed."
        ),
    )
    slack_team_id: str | None = Field(
        default=None,
        description=(
            "The workspace (T…) Sarah serves; events from any other are dropped. Unset: learnt from auth.test at start."
        ),
    )
    slack_app_id: str | None = Field(
        default=None,
        description="Sarah's app id (A…); payloads for another app are dropped. Unset: learnt from bots.info at start.",
    )
    slack_enterprise_id: str | None = Field(
        default=None,
        description=(
            "Enterprise Grid org (E…) whose workspaces Sarah also accepts. Unset: learnt from auth.test (if any)."
        ),
    )

    @field_validator("slack_team_id", "slack_app_id", "slack_enterprise_id")
    @classmethod
    def _slack_id_shape(cls, value: str | None, info: Any) -> str | None:
        if value in (None, ""):
            return None
        prefix = {"slack_team_id": "T", "slack_app_id": "A", "slack_enterprise_id": "E"}[info.field_name]
        if not re.fullmatch(prefix + r"[A-Z0-9]{2,}", value):
            raise ValueError(f"must be a Slack id like {prefix}0123ABCD")
        return value

    max_message_chars: int = Field(
        default=8_000,
        ge=200,
        le=40_000,
        description=(
            "Longest customer message Sarah stores and reads, in characters; the rest is cut off with a "
            "marker and she tells the customer."
        ),
    )
    stream_answers: bool = Field(
        default=True, description="Stream answers into Slack as the model writes them (false: one message when done)."
    )
    # chat.startStream and stopStream are Tier 2: about 20 calls a minute per workspace.
    stream_answers_per_minute: int = Field(
        default=8,
        ge=0,
        le=10,
        description=(
            "Answers streamed per minute per workspace (start and stop are Tier 2, about 20 calls a minute); "
            "the rest go as one message."
        ),
    )

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
    """Which model answers, where it is served, and how long Sarah waits for it."""

    model_config = _COMMON

    sarah_model: str = Field(
        default="gpt-4.1-mini-2025-04-14",
        min_length=1,
        description="The model id: a fine-tuned ft:… id, an Azure deployment, or the name a vLLM server serves.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="API key. Unset with OPENAI_BASE_URL unset too: the offline model answers."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="Any OpenAI-compatible server (Azure's /openai/v1, vLLM's http://host:8000/v1).",
    )
    model_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Seconds one model call may take (the SDK's default is 600)."
    )
    model_max_retries: int = Field(
        default=1, ge=0, le=10, description="Retries of a failed model call (connection errors, 408/409/429/5xx)."
    )
    model_max_reply_tokens: int = Field(default=700, ge=16, le=32_000, description="Longest answer, in tokens.")
    model_temperature: float = Field(default=0.3, ge=0, le=2, description="Sampling temperature.")
    prompt_token_budget: int = Field(
        default=6_000,
        ge=256,
        le=1_000_000,
        description="Tokens of system prompt + thread history sent to the model; the newest turns are kept.",
    )

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
    """Where Sarah keeps every thread: one Redis server, a Redis Cluster, Sentinels, or an embedded one."""

    model_config = _COMMON

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss:// or unix:// URL. Unset: an embedded Redis with its data in SARAH_DATA_DIR.",
    )
    redis_max_connections: int = Field(
        default=64, ge=2, le=10_000, description="Connections in the pool (callers wait for a free one)."
    )
    stream_max_length: int = Field(
        default=100_000, ge=1_000, description="Safety cap on the inbox stream (answered entries are deleted anyway)."
    )
    sarah_data_dir: Path = Field(default=Path(".sarah"), description="Where the embedded Redis keeps its data.")
    redis_cluster: bool = Field(
        default=False,
        description=(
            "true: REDIS_URL is any node of a Redis Cluster; the client finds the rest "
            "(REDIS_MAX_CONNECTIONS is then per node, and the pool does not wait: it must cover the peak)."
        ),
    )
    redis_sentinels: str | None = Field(
        default=None,
        description=(
            "host:port,… of Redis Sentinels: Sarah asks them for the master and follows a failover; "
            "REDIS_URL then gives only the password and db."
        ),
    )
    redis_sentinel_master: str = Field(
        default="mymaster", min_length=1, description="The master's name in the Sentinels' configuration."
    )

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
    """How long Sarah remembers: every Redis key expires, and a DM conversation ends when idle."""

    model_config = _COMMON

    conversation_ttl_days: float = Field(
        default=30, gt=0, le=3650, description="Days a thread's memory is kept after its last activity."
    )
    dedupe_ttl_hours: float = Field(
        default=48, gt=0, le=24 * 90, description="Hours a Slack message id is remembered to drop Slack's retries."
    )
    max_stored_turns: int = Field(
        default=200,
        ge=4,
        le=10_000,
        description="Turns kept per thread (the prompt budget decides what the model sees).",
    )
    dm_conversation_idle_minutes: float = Field(
        default=120,
        gt=0,
        le=30 * 24 * 60,
        description=(
            "Top-level DMs continue the customer's conversation until it has been idle this long (never while "
            "it is with the support team); then the next one starts a new conversation."
        ),
    )
    dead_letter_retention_days: float = Field(
        default=14,
        gt=0,
        le=3650,
        description="Days messages set aside after failed passes (customers' words) are kept before deletion.",
    )

    @property
    def conversation_ttl_seconds(self) -> int:
        return int(self.conversation_ttl_days * 86_400)

    @property
    def dedupe_ttl_seconds(self) -> int:
        return int(self.dedupe_ttl_hours * 3_600)


class WorkerSettings(BaseSettings):
    """What a process runs, and how the worker reads, leases and gives up on messages."""

    model_config = _COMMON

    sarah_role: Literal["all", "ingress", "worker"] = Field(
        default="all",
        description="all (ingress + worker), ingress or worker: scale workers as separate processes.",
    )
    worker_concurrency: int = Field(
        default=500, ge=1, le=100_000, description="Threads one worker process answers at once."
    )
    worker_read_batch: int = Field(default=100, ge=1, le=10_000, description="Stream entries read per XREADGROUP.")
    thread_lease_seconds: float = Field(
        default=15,
        ge=2,
        le=3_600,
        description="A thread's lease, renewed while answering; a crashed worker's lease lapses after it.",
    )
    reclaim_idle_seconds: float = Field(
        default=30,
        ge=5,
        le=86_400,
        description=(
            "Entries pending this long are taken over from a crashed worker (must exceed THREAD_LEASE_SECONDS)."
        ),
    )
    coalesce_seconds: float = Field(
        default=0.3,
        ge=0,
        le=30,
        description="Wait this long before answering, so a burst of quick messages gets one reply.",
    )
    max_redrafts: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Times Sarah starts her draft over when new messages arrive while she thinks.",
    )
    hold_unknown_thread_seconds: float = Field(
        default=120,
        ge=0,
        le=3_600,
        description=(
            "A reply in a channel thread Sarah does not know yet is kept this long for the thread's opening "
            "@mention (Slack may deliver it later), then dropped."
        ),
    )
    dead_letter_after_passes: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Failed passes after which a thread's messages move to the dead-letter stream (see `sarah dead-letters`)."
        ),
    )
    consumer_idle_remove_seconds: float = Field(
        default=3_600,
        ge=60,
        le=30 * 86_400,
        description="A worker consumer idle this long with nothing pending is removed from the consumer group.",
    )
    worker_stale_seconds: float = Field(
        default=30,
        ge=2,
        le=3_600,
        description="/healthz answers 503 when the worker has not read the inbox for this long (it reads every 0.5 s).",
    )


class HandoffSettings(BaseSettings):
    """When Sarah hands a thread to people, and who those people are."""

    model_config = _COMMON

    handoff_after_failures: int = Field(
        default=3,
        ge=1,
        le=100,
        description=(
            "Failures after which Sarah hands the thread to the support team (an answer she cannot give, "
            "a model error, a claimed action, a 'Didn't help' press)."
        ),
    )
    handoff_count: Literal["total", "consecutive"] = Field(
        default="total",
        description="total (every failure in the thread) or consecutive (a good answer resets the count).",
    )
    support_channel: str | None = Field(
        default=None,
        description="Channel id (C…) where hand-off cards are posted; Sarah must be a member. Required with Slack.",
    )
    support_usergroup: str | None = Field(
        default=None,
        description=(
            "User group id (S…) of the support team. Unset: the support channel's members (the channel must "
            "then be private and not shared with another organisation)."
        ),
    )
    support_channel_allow_public: bool = Field(
        default=False,
        description=(
            "A public SUPPORT_CHANNEL is refused at start (anyone who joins reads every card). true accepts "
            "that risk, with a SUPPORT_USERGROUP only (a public channel's members never count as the team)."
        ),
    )
    handoff_reminder_minutes: float = Field(
        default=15,
        gt=0,
        le=7 * 24 * 60,
        description="An unclaimed card is announced again after this many minutes (and every interval).",
    )
    support_team_cache_seconds: float = Field(
        default=60, ge=0, le=3_600, description="How long the support team's membership is cached."
    )
    handoff_max_reminders: int = Field(
        default=4,
        ge=0,
        le=1_000,
        description="How many times an unclaimed card is announced again, at most (0: never).",
    )

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


class ServiceLevelSettings(BaseSettings):
    """The support team's hours and the targets a hand-off is measured against (in business time)."""

    model_config = _COMMON

    support_hours: str = Field(
        default="00:00-24:00", description="The team's working hours, HH:MM-HH:MM in SUPPORT_TIMEZONE."
    )
    support_days: str = Field(
        default="mon,tue,wed,thu,fri,sat,sun", description="The team's working days, comma-separated (mon … sun)."
    )
    support_timezone: str = Field(
        default="UTC", description="The team's time zone, an IANA name such as Europe/Berlin."
    )
    support_days_off: str = Field(
        default="", description="Dates the team is off (holidays), YYYY-MM-DD, comma-separated."
    )
    first_response_target_minutes: float = Field(
        default=60,
        gt=0,
        le=30 * 24 * 60,
        description="Business minutes from a hand-off to a person's first answer to the customer.",
    )
    resolution_target_hours: float = Field(
        default=24, gt=0, le=365 * 24, description="Business hours from a hand-off to its resolution."
    )
    breach_warning_minutes: float = Field(
        default=15,
        ge=0,
        le=7 * 24 * 60,
        description="How long before a target is missed the card's thread is reminded (0: no warning).",
    )
    rating_after_resolve: bool = Field(
        default=True, description="Ask the customer to rate the team (1-5) after each resolved hand-off."
    )
    weekly_digest: str = Field(
        default="",
        description=(
            "When the weekly digest is posted in the support channel, e.g. 'mon 09:00' (SUPPORT_TIMEZONE). "
            "Empty: never."
        ),
    )

    @field_validator("weekly_digest")
    @classmethod
    def _weekly(cls, value: str) -> str:
        from config.support_hours import parse_weekly

        parse_weekly(value)
        return value

    @field_validator("support_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        from config.support_hours import parse_hours

        parse_hours(value)
        return value

    @field_validator("support_days")
    @classmethod
    def _days(cls, value: str) -> str:
        from config.support_hours import parse_days

        parse_days(value)
        return value

    @field_validator("support_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from config.support_hours import parse_zone

        parse_zone(value)
        return value

    @field_validator("support_days_off")
    @classmethod
    def _days_off(cls, value: str) -> str:
        from config.support_hours import parse_dates

        parse_dates(value)
        return value


class WebhookSettings(BaseSettings):
    """Hand-off events sent to another system (a ticketing tool), signed like Slack signs its requests."""

    model_config = _COMMON

    handoff_webhook_url: str | None = Field(
        default=None, description="Where hand-off events are sent (https). Unset: nothing is sent."
    )
    handoff_webhook_secret: SecretStr | None = Field(
        default=None, description="Signs every event (HMAC-SHA256 over timestamp and body); required with the URL."
    )
    handoff_webhook_allow_http: bool = Field(
        default=False, description="Accept a plain http:// URL, for a receiver on this machine or a private network."
    )
    handoff_webhook_include_text: bool = Field(
        default=False, description="Add the hand-off's summary (customer content) to events."
    )
    handoff_webhook_max_attempts: int = Field(
        default=10, ge=1, le=100, description="Tries per event before it is set aside (dead-lettered)."
    )
    handoff_webhook_retry_seconds: float = Field(
        default=10, gt=0, le=3_600, description="The first wait before a retry; it doubles with each try."
    )
    handoff_webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=120, description="How long one delivery may take before it counts as failed."
    )

    @field_validator("handoff_webhook_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be a URL such as https://tickets.example.com/sarah")
        return value

    def dependent_problems(self) -> list[str]:
        """The rules between the webhook's settings (checked with every other rule, in one round)."""
        url, problems = self.handoff_webhook_url, []
        if url and url.startswith("http://") and not self.handoff_webhook_allow_http:
            problems.append(
                "HANDOFF_WEBHOOK_URL: must be https:// (set HANDOFF_WEBHOOK_ALLOW_HTTP=true only for a receiver "
                "on this machine or a private network)"
            )
        if url and self.handoff_webhook_secret is None:
            problems.append(
                "HANDOFF_WEBHOOK_SECRET: is required with HANDOFF_WEBHOOK_URL (the receiver checks "
                "each event's signature with it)"
            )
        return problems


class LimitSettings(BaseSettings):
    """Per-person limits, so one person (or a script) cannot flood Sarah, the team or Redis."""

    model_config = _COMMON

    user_messages_per_minute: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description=(
            "Messages one person may send Sarah per minute; beyond it they are told once and the rest is not answered."
        ),
    )
    user_max_open_threads: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description=(
            "Conversations one person may have open with Sarah (with a message of theirs in the last 24 hours)."
        ),
    )
    user_max_thread_bytes: int = Field(
        default=256 * 1024,
        ge=10_000,
        le=1_000_000_000,
        description="Bytes Sarah keeps of one person in one conversation; beyond it they are told, nothing more kept.",
    )
    user_max_stored_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=10_000,
        le=10_000_000_000,
        description="Bytes Sarah keeps of one person in all their conversations; beyond it they are told.",
    )


class TextSettings(BaseSettings):
    """Everything Sarah says that does not come from the model, so admins can change it."""

    model_config = _COMMON

    text_thinking: str = Field(
        default="_Sarah is typing…_",
        description="Shown while Sarah drafts where Slack's loading status is refused (and in the terminal chat).",
        min_length=1,
    )
    text_apology: str = Field(
        default=(
            "Sorry, I couldn't reach my knowledge right now. Please send your message again in a "
            "minute, or say *human* to talk to our support team."
        ),
        description="Shown when the model fails (counts as a failure toward the hand-off).",
        min_length=1,
    )
    text_cannot_resolve: str = Field(
        default=(
            "I'm sorry, I couldn't solve that one yet. Could you tell me a little more, such as what you "
            "see on the device right now? You can also say *human* to reach our support team."
        ),
        description="Shown when Sarah cannot resolve a request (below the hand-off threshold).",
        min_length=1,
    )
    text_not_helped: str = Field(
        default="Sorry that didn't help. What happened when you tried it?",
        description="Answer to a 'Didn't help' press.",
        min_length=1,
    )
    text_handoff: str = Field(
        default=(
            "I'm handing this conversation to our support team. A person will reply right here in this "
            "thread, usually within a few hours; you don't need to do anything else. Anything you add "
            "here meanwhile goes to them."
        ),
        description="Shown when the thread is handed to the support team.",
        min_length=1,
    )
    text_agent_joined: str = Field(
        default="{agent} from the ZenNest support team has joined and will help you from here.",
        description="Shown when an agent takes the thread; {agent} is their name (required).",
        min_length=1,
    )
    text_back_to_sarah: str = Field(
        default="Our support team has handed this conversation back to me, Sarah. How else can I help?",
        description="Shown when support hands the thread back to Sarah.",
        min_length=1,
    )
    text_resolved: str = Field(
        default=(
            "Our support team has marked this conversation as resolved. If anything else comes up, just "
            "write here and I'll pick it up."
        ),
        description="Shown when support resolves the thread.",
        min_length=1,
    )
    text_files_only: str = Field(
        default=("Thanks for the file! I can only read text, so could you describe what you see in a sentence or two?"),
        description="Answer to a file without text.",
        min_length=1,
    )
    text_claimed_action: str = Field(
        default=(
            "I can't see or change your devices, home or account myself, so I can't do that for you. "
            "I can walk you through the steps, or say *human* and our support team will take it from here."
        ),
        description="Sent instead of an answer that claims an action Sarah cannot take (counts as a failure).",
        min_length=1,
    )
    link_allowed_domains: str = Field(
        default="zennest.com,help.zennest.com",
        description=(
            "Domains (and subdomains) whose links stay clickable in Sarah's answers, comma-separated; "
            "other links show as text."
        ),
    )

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

    text_status: str = Field(
        default="is typing…",
        description="Slack's native loading status while Sarah drafts.",
        min_length=1,
        max_length=200,
    )
    text_loading_messages: str = Field(
        default=(
            "Checking the ZenNest guides…|Asking the hub what it has been up to…|"
            "Looking through the thermostat manual…|Warming up an answer…"
        ),
        description="Lines rotating under the loading status, separated by | (at most 10, each up to 150 characters).",
        min_length=1,
    )
    text_stream_stopped: str = Field(
        default="_I'll stop here: someone from our support team is taking over this conversation._",
        description="Closes a streamed answer cut short because the thread went to the support team.",
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
        description="Added to the answer when a message was cut to MAX_MESSAGE_CHARS; {limit} is that number.",
        min_length=1,
    )
    suggested_prompts_title: str = Field(
        default="Hi, I'm Sarah from ZenNest. How can I help?",
        description="Heading above the suggested prompts in Sarah's Messages tab (and assistant threads).",
        min_length=1,
        max_length=150,
    )
    suggested_prompts: str = Field(
        default="Set up my ZenHub|Why is my camera offline?|Talk to a person",
        description=(
            "Up to 4 suggested prompts, separated by |: each is the button's label and the message it sends "
            "(each up to 100 characters)."
        ),
    )
    text_files_shared: str = Field(
        default=(
            "_I can't open files myself. If our support team takes this conversation over, they'll see a "
            "link to what you shared._"
        ),
        description=(
            "Added to Sarah's answer when the customer shared a file (linked on the hand-off card, never downloaded)."
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
    """What Sarah writes about herself: logs (never customer text or secrets) and optional traces."""

    model_config = _COMMON

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text (key=value) or json (one object per line, for log shippers); never customer text or secrets.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description=(
            "Set: traces (a span per pass and per model call) go to this OTLP/HTTP collector; needs the `otel` extra."
        ),
    )

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
    service: ServiceLevelSettings = field(default_factory=ServiceLevelSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)

    def __post_init__(self) -> None:
        problems = self.dependent_problems()
        if problems:
            raise SettingsError(problems)

    def dependent_problems(self) -> list[str]:
        """Every rule that spans two settings, checked together so an admin fixes them in one round."""
        return dependent_problems(self.slack, self.redis, self.worker, self.handoff, self.texts, self.webhook)


def dependent_problems(
    slack: SlackSettings,
    redis: RedisSettings,
    worker: WorkerSettings,
    handoff: HandoffSettings,
    texts: TextSettings,
    webhook: WebhookSettings,
) -> list[str]:
    """The rules between settings. `load_settings` runs them even when some values were refused,
    on groups where the default stands in for each refused value."""
    problems = [*slack.dependent_problems(), *redis.dependent_problems(), *webhook.dependent_problems()]
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
    "service": ServiceLevelSettings,
    "webhook": WebhookSettings,
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
    for problem in dependent_problems(g["slack"], g["redis"], g["worker"], g["handoff"], g["texts"], g["webhook"]):
        # a rule that names a refused variable was judged on that variable's default: not reported
        if not any(re.search(rf"\b{name}\b", problem) for name in refused_names):
            problems.append(problem)
    raise SettingsError(problems)
