"""Chat models for the services that generate text (execution, query): one factory, typed provider errors."""
