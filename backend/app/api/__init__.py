"""HTTP layer: routes, middleware, error handlers and the OpenAPI document."""
