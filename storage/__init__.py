"""Persistence on SQLAlchemy 2.0 async: bot state, conversation references, registry, forums."""
