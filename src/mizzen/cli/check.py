"""`mizzen check`: validate and compile a polyaxonfile (implemented with the compiler)."""
