"""Config repository: pydantic models and a loader whose errors name file and line."""
