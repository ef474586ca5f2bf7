"""Sarah's test doubles, importable by the tests and the benchmark alike.

Real HTTP servers on 127.0.0.1 that answer like Slack's Web API (and Socket Mode), OpenAI's chat and
fine-tuning APIs, plus Slack-shaped signed payloads. They are not shipped in the wheel (pyproject's
packages.find leaves them out): they run from a checkout, next to tests/ and bench/.
"""
