"""HTTP API (`/api/v1`): thin routers that translate HTTP to use cases and errors to problem+json."""
