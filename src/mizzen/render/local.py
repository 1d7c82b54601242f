"""Plan -> local process specs (the local executor renders through this)."""
