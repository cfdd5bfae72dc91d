"""Triggers, time-based automations and macros.

- ``schema``: the one validator of conditions and actions (pages, admin, API).
- ``conditions``: conditions compiled to plain predicates over a ``Snapshot`` (no Django).
- ``snapshot``: a ticket and one change as plain values.
- ``actions``: what a rule does, through ``tickets.actions`` and the mail and webhook code.
- ``engine``: triggers on every ticket change (``events_recorded``), chains bounded.
- ``automations``: the timer's work; ``macros``: applying a macro, the sandboxed templates;
  ``dry_run``: which recent tickets a rule would have matched; ``store``: saving rules.
"""
