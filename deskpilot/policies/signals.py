"""What the SLA app tells others.

``clocks_rebuilt`` (sender: the rebuild module, ``first`` and ``last``: a range of ticket ids) is
sent by the bulk recompute (``sla_rebuild``) after it has written, for tickets in that range,
warnings and breaches or SLA fields the live path would have announced through
``tickets.signals.events_recorded``; the bulk writes bypass that signal. Receivers (the metrics
record) bring what they keep from those tickets up to date.
"""

from django.dispatch import Signal

clocks_rebuilt = Signal()
