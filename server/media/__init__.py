"""Stored files: the content-addressed media store, text extraction, generated icons."""
