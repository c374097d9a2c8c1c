"""Allocation: the case and auditor lists, the rules that share cases among auditors, and
the allocation workbook a QA officer checks and adjusts (``record`` is one allocated audit)."""
