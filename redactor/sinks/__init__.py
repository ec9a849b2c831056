"""In-app protection: the loguru sink and the stdlib logging filter."""
