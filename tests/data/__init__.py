"""Test data: small sample files made on the fly (no binaries in the repository)."""
