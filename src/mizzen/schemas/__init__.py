"""API data transfer objects, shared by the server and the client (pydantic only)."""
