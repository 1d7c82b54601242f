"""What every layer shares, pure (pydantic only, no I/O): the API's data transfer objects (server
and client), the run statuses and their transition table, the run meta keys Mizzen itself uses."""
