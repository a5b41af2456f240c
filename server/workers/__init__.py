"""Background workers that run inside `copnet serve` and as `copnet worker` processes."""
