"""Announcements other apps subscribe to (SLA clocks, metrics, webhooks, notifications).

Sent only after the transaction that changed the ticket commits, so a receiver never sees a
change that was rolled back.
"""

from django.dispatch import Signal

# Arguments: ticket_id (int), fields (list[str]: the event fields recorded).
ticket_changed = Signal()
