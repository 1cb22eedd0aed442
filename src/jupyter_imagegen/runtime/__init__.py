"""What every front end shares: one runtime per process (settings, clients, cache, loop, limits,
budgets), the request options, the disk cache and an image's notebook output."""
