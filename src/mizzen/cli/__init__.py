"""The `mizzen` command line. Each command group lives in its own module and imports heavy
libraries only inside its commands, so that `mizzen --help` stays fast."""
