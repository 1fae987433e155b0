"""Faces: finding a face in a photo (detect), the EfficientNet network that reads it (network), the classifier that
ships and its parts (classifier, ensemble, prior), training and its scores (training, metrics), answers kept on disk
(remembered), and the face data (data/)."""
