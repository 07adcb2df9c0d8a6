"""Roster, tasks drawn from the plan, chat reports and progress against the tasks."""
