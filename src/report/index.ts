// Public API of the report room (re-exports only).
