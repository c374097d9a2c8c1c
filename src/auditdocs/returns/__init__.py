"""Returned forms: where they come from, how they are checked, stored and answered."""
