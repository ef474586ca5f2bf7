"""Every Bolt listener Sarah has, registered in one place: what Slack can send her, and who takes it.

| Slack sends | Listener |
|---|---|
| `message`, `app_mention` events | the front door queues the message (bot/slack/front_door.py) |
| Claim / Resolve / Hand back, Helped / Didn't help, `/sarah` | bot/slack/actions.py `SupportActions` |
| `app_home_opened` (Messages tab), `assistant_thread_started` | the suggested prompts (bot/slack/assistant.py) |
| `app_home_opened` (Home tab), the card link button | the support team's queue (bot/slack/app_home.py) |
| the rating buttons and the comment form | bot/slack/ratings.py (when RATING_AFTER_RESOLVE is on) |

Buttons and commands are acknowledged at once; their work runs after (bot/slack/after_ack.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from slack_bolt.async_app import AsyncApp

from bot.slack.actions import SupportActions
from bot.slack.after_ack import AfterAck
from bot.slack.app_home import AppHome, register_app_home
from bot.slack.assistant import register_assistant
from bot.slack.boundaries import Home
from bot.slack.ratings import Ratings, register_ratings


def register_listeners(
    app: AsyncApp,
    *,
    messages: Callable[..., Awaitable[None]],
    actions: SupportActions,
    home: Home,
    app_home: AppHome,
    ratings: Ratings | None,
    after_ack: AfterAck,
    prompts_title: str,
    prompts: Sequence[str],
) -> None:
    """Register every listener on `app` (`home`: Sarah's workspace, learned from auth.test)."""
    app.event("message")(messages)
    app.event("app_mention")(messages)
    actions.register(app, home)
    register_assistant(app, title=prompts_title, prompts=prompts)
    register_app_home(app, app_home)
    if ratings is not None:
        register_ratings(app, ratings, after_ack)
