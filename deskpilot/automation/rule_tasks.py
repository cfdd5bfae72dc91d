"""Rule jobs: time-based automations (filled in by the rules work)."""
