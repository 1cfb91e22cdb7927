"""The courses service's tornado handlers: one module per resource, pages apart from the API."""
