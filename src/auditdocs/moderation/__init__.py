"""Moderation (framework 7.2): a second reader re-grades a sample of audits, and agreement is measured."""
