// Public API of the saliency room (re-exports only).
