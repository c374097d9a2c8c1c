"""E-mail: messages (drafts or SMTP), the auditors' packs (``send``), and after the audit the
practitioner-discussion plans and the chasers (``chase``)."""
