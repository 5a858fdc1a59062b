// Public API of the metrics room (re-exports only).
