"""Announcements other apps subscribe to (SLA clocks, metrics, webhooks, notifications).

``ticket_changed`` is sent only after the transaction that changed the ticket commits, so a
receiver never sees a change that was rolled back: mail, webhooks. ``events_recorded`` is sent
inside it, for what must be part of the change itself: SLA clocks, triggers, routing.
"""

from django.dispatch import Signal

# Arguments: ticket_id (int), fields (list[str]: the event fields recorded).
ticket_changed = Signal()

# Sent inside the transaction, right after a change's events are written (and the version bumped).
# Arguments: ticket (the Ticket instance the action holds, locked; a receiver that changes the
# ticket passes this very instance to the actions, so the caller's copy stays current), events
# (list[TicketEvent], saved). Receivers run in the order they connected and must be quick: they
# add to the time of every change. A receiver's exception rolls the change back.
events_recorded = Signal()
