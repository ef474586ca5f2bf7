#!/usr/bin/env bash
# Plant each fault that tests/bot/test_promises.py guards, one at a time, in a throwaway copy of this
# checkout, and run that file there: each run must report its own test as FAILED (xack also trips the
# retried-event test, which checks XPENDING too).
#   dedupe  the ingress's Lua no longer drops an event it has seen
#   owner   Pipeline._send_if_ours no longer reads the owner before sending
#   lease   the worker never renews a thread's lease
#   xack    the inbox deletes answered entries (XDEL) without acknowledging them (XACK)
# Needs REDIS_TEST_URL like the tests (default redis://127.0.0.1:6379/15, flushed).
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for fault in dedupe owner lease xack; do
  copy=$(mktemp -d "/tmp/plant-$fault-XXXX")
  (cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$copy")
  python - "$copy" "$fault" <<'PY'
import sys
root, fault = sys.argv[1], sys.argv[2]
path, old, new = {
    "dedupe": ("bot/inbox.py", "if redis.call('EXISTS', KEYS[1]) == 1 then return false end\n", ""),
    "owner": (
        "handlers/pipeline.py",
        "if not still_ours() or (owner or await self._ownership.owner(thread)) is not Owner.BOT:",
        "if not still_ours():",
    ),
    "lease": (
        "bot/worker.py",
        "renewed = await self._store.renew_lease(self.thread, self.token)",
        "renewed = True",
    ),
    "xack": ("bot/inbox.py", "        pipe.xack(self._stream, GROUP, *entry_ids)\n", ""),
}[fault]
text = open(f"{root}/{path}").read()
assert old in text, f"{fault}: the code to change is not in {path} any more"
open(f"{root}/{path}", "w").write(text.replace(old, new))
PY
  echo "== fault planted: $fault"
  (cd "$copy" && python -m pytest -q -p no:cacheprovider tests/bot/test_promises.py 2>&1 | grep -E "^FAILED|passed|failed")
  rm -rf "$copy"
done
