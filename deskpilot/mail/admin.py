from deskpilot.mail import admin_outbound  # noqa: F401
