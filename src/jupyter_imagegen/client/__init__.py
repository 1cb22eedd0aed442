"""The core: settings, models and their schemas, validation, the HTTP clients and what they answer."""
