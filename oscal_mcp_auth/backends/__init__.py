"""Built-in verifier backends, one module each, registered through entry points like any plugin."""
