"""Sarah's test doubles, importable by the tests and the benchmark alike.

Real HTTP servers on 127.0.0.1 that answer like Slack's Web API (and Socket Mode), OpenAI's chat and
fine-tuning APIs, plus Slack-shaped signed payloads, and the steps and checks many test modules share
(a hand-off, a /metrics scrape, what Sarah posted). Real processes too: throwaway redis-servers (alone,
as a Cluster, behind a Sentinel), Sarah as `python -m bot.cli.main` under a supervisor, and the fault
table's customers and ledger. Test modules import helpers from here or from a conftest, never from one
another or another module under tests/. These modules import nothing of Sarah's own code (what they
need of it, such as her setting names, their caller passes in). They are not shipped in
the wheel (pyproject's packages.find leaves them out): they run from a checkout, next to tests/ and
bench/.
"""
