"""Forms: their fields in audit terms (``layout``), their signed identity, making them
(``generate``) and reading them back (``parse``)."""
