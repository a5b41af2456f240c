"""The `copnet` command line: one module per command family, the demo, the worker process."""
