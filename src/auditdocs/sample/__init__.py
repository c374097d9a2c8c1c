"""The synthetic sample month (made-up people only), the test-style answers that fill its
forms, and ``auditdocs demo``."""
