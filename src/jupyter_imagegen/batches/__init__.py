"""Many images at an account's rate limit: inputs, plan, job, manifest, progress and results."""
