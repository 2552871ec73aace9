"""The running app: the factory, access tokens and host checks, background jobs, the settings the
browser code reads."""
