"""Reminders: stages, planning, exactly-once delivery, office escalation, the scheduler inside serve."""
