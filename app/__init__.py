"""Wiring: builds the services, the CLI verbs, serve and upkeep. Imports everything; nothing imports it."""
