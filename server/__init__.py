"""copnet: a federated ActivityPub server for Communities of Practice."""

__version__ = "0.1.0"
