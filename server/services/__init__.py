"""Domain services that web handlers, the CLI, the demo and the workers all call."""
