"""Storage: SQLAlchemy 2 models, engine set-up and migrations."""
