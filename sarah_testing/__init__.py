"""Sarah's test doubles, importable by the tests and the benchmark alike.

Real HTTP servers on 127.0.0.1 that answer like Slack's Web API (and Socket Mode), OpenAI's chat and
fine-tuning APIs, plus Slack-shaped signed payloads, and the steps and checks many test modules share
(a hand-off, a /metrics scrape, what Sarah posted): test modules import helpers from here or from a
conftest, never from one another. They import nothing of Sarah's own code. They are not shipped in
the wheel (pyproject's packages.find leaves them out): they run from a checkout, next to tests/ and
bench/.
"""
