"""Echo over HTTP: write it."""
