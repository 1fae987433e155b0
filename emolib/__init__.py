"""emolib: from a face to a melody. See the numbered notebooks for the story."""
__version__ = "0.1.0"
