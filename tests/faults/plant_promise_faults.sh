#!/usr/bin/env bash
# Plant each fault that a promise test guards, one at a time, in a throwaway copy of this checkout,
# and run the test file that guards it there: each run must report its own test as FAILED (xack also
# trips the retried-event test, which checks XPENDING too).
#   dedupe    the ingress's Lua no longer drops an event it has seen
#   owner     Delivery.send_if_ours no longer reads the owner before sending
#   lease     the worker never renews a thread's lease
#   xack      the inbox deletes answered entries (XDEL) without acknowledging them (XACK)
#   maxchars  the ingress is not given MAX_MESSAGE_CHARS (it cuts at the default instead)
#   total     a good answer resets the failure count in the default "total" mode too
#   readage   /healthz reads the reclaim loop's age for the read loop
# Needs REDIS_TEST_URL like the tests (default redis://127.0.0.1:6379/15, flushed).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for fault in dedupe owner lease xack maxchars total readage; do
  copy=$(mktemp -d "/tmp/plant-$fault-XXXX")
  (cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$copy")
  python - "$copy" "$fault" <<'PY'
import sys
root, fault = sys.argv[1], sys.argv[2]
path, old, new = {
    "dedupe": ("handlers/store/lua/inbox_put.lua", "if redis.call('EXISTS', seen) == 1 then return false end\n", ""),
    "owner": (
        "handlers/delivery.py",
        "if not still_ours() or (owner or await self._ownership.owner(thread)) is not Owner.BOT:",
        "if not still_ours():",
    ),
    "lease": (
        "bot/worker.py",
        "renewed = await self._store.renew_lease(self.thread, self.token)",
        "renewed = True",
    ),
    "xack": ("handlers/store/inbox.py", "        pipe.xack(self._stream, GROUP, *entry_ids)\n", ""),
    "maxchars": ("bot/runtime.py", "            max_message_chars=s.max_message_chars,\n", ""),
    "total": (
        "handlers/failures.py",
        "start again.\"\"\"\n        if self._policy.consecutive:",
        "start again.\"\"\"\n        if True:",
    ),
    "readage": ("bot/ops/liveness.py", 'ages = {"read": now - self._last["read"],', 'ages = {"read": now - self._last["reclaim"],'),
}[fault]
text = open(f"{root}/{path}").read()
assert old in text, f"{fault}: the code to change is not in {path} any more"
open(f"{root}/{path}", "w").write(text.replace(old, new))
PY
  tests=tests/bot/test_promises.py
  [ "$fault" = readage ] && tests=tests/bot/test_health_tells_the_truth.py
  echo "== fault planted: $fault"
  (cd "$copy" && python -m pytest -q -p no:cacheprovider "$tests" 2>&1 | grep -E "^FAILED|passed|failed")
  rm -rf "$copy"
done
