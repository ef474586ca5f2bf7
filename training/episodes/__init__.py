"""Scenario episodes: a simulated customer lives through a support conversation with Sarah, end to end.

Each scenario (training/data/scenarios.jsonl) is played through the same pipeline as Slack, with the
real failure counting and hand-off, against any model. An episode succeeds only when the customer
reached the right end (solved, handed to a person, or politely declined), every fact a correct answer
must state was stated, nothing contradicted the knowledge base, no action was invented, and it took
no more turns than the scenario allows. Trivial baselines run beside every model, so a score that
rewards wording instead of behaviour shows at once.
"""
