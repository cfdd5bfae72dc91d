"""Demo data: a believable help desk operation for trying Deskpilot, generated fast.

``deskpilot demo-data`` (core/management/commands/demo_data.py) runs ``generator.generate``;
``signins()`` lists the demo accounts, for the command and for ``deskpilot serve`` to print.
"""

from __future__ import annotations


def signins() -> list[tuple[str, str, str]]:
    """(role, email, password) for each demo account in the database, admin first; an empty list
    when there are none (or no database yet)."""
    from django.db import DatabaseError

    from deskpilot.demo.staff import signins as demo_signins

    try:
        return demo_signins()
    except DatabaseError:
        # Not migrated yet: there is nobody to sign in as, which is not an error for a hint.
        return []
