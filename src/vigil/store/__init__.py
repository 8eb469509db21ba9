"""Persistence: schema, engine/session handling and migrations."""
