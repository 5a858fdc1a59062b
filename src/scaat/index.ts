// Public API of the scaat room (re-exports only).
