"""Deskpilot: the help desk and the customer service manager's cockpit."""

__version__ = "0.1.0"
