"""Routing jobs: assigning queued tickets when an agent becomes available (filled in by the routing work)."""
