"""Test doubles and drivers that ship with the bot (used by tests, benchmarks and the chat verb)."""
