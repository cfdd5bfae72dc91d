"""Reports for senior management: the executive PDF and scheduled reports by e-mail."""
