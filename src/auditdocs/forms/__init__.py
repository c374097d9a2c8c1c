"""Forms in audit terms: which fields a tool type's document has, and in what order."""
