"""Face data, face detection and image loading."""
