"""Which workspace and app Sarah serves, and who in a shared channel is an outsider.

A signing secret belongs to an app, not to a workspace: an app installed in a second workspace (or a
payload meant for another app behind the same URL) is signed just as well. So every event, command
and button press is checked against Sarah's home: the team (and, on Enterprise Grid, the org) and the
app learnt at start. Anything else is acknowledged, so Slack does not retry it, and dropped with one
log line. In a Slack Connect channel people from other organisations write too: they are customers,
never the support team, whatever channel they are members of.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Home:
    team_id: str
    app_id: str | None = None
    enterprise_id: str | None = None  # Enterprise Grid: every workspace of this org is home too

    def accepts(self, team_id: str | None, enterprise_id: str | None) -> bool:
        if team_id and team_id == self.team_id:
            return True
        return bool(self.enterprise_id and enterprise_id == self.enterprise_id)

    def why_foreign(self, body: dict[str, Any], team_id: str | None, enterprise_id: str | None) -> str | None:
        """Why a request is not for this Sarah, or None when it is."""
        app = body.get("api_app_id")
        if self.app_id and app and app != self.app_id:
            return "another app"
        if not self.accepts(team_id, enterprise_id):
            return "another workspace"
        return None

    def is_external(self, sender_team: str | None, *, shared: bool) -> bool:
        """Is the author of a message from outside the home org (Slack Connect)?

        `sender_team` is the event's `user_team` (else `team`); `shared` is the envelope's
        `is_ext_shared_channel`. Without a team in a shared channel the author counts as external:
        when in doubt, a customer. On Grid another workspace of the same org is not external unless
        the channel is shared with another org.
        """
        if not sender_team:
            return shared
        if sender_team in (self.team_id, self.enterprise_id):
            return False
        return shared or not self.enterprise_id

    def presser_is_external(self, body: dict[str, Any]) -> bool:
        """The author of a button press: `user.team_id` is their own workspace."""
        user_team = (body.get("user") or {}).get("team_id")
        if not user_team or user_team == self.team_id:
            return False
        return not self.enterprise_id  # on Grid the payload cannot say which org user_team belongs to


Middleware = Callable[..., Awaitable[BoltResponse | None]]


def boundary_filter(home: Home) -> Middleware:
    """A Bolt middleware that lets through only requests from Sarah's home workspace and app."""

    async def check(body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> Any:
        why = home.why_foreign(body, context.team_id, context.enterprise_id)
        if why is None:
            return await next()
        log.warning(
            "dropped a Slack %s from %s",
            body.get("type") or ("command" if body.get("command") else "request"),
            why,
            extra={"team_id": context.team_id or "", "api_app_id": str(body.get("api_app_id") or "")},
        )
        return BoltResponse(status=200, body="")

    return check
