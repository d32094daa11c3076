"""Advice over a planned boot: findings (:mod:`.findings`), the typed
verdict (:mod:`.verdict`) and the command-line recommendation, proven by
re-planning (:mod:`.recommend`)."""
