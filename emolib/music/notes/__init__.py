"""How music is represented: the piano roll and its MIDI conversion (roll), a Piece with its chords, key and who wrote
each bar (piece), chords (chords), keys (key), how bars relate (melodic), and each model's view of a melody: event
tokens for the transformer (tokens), step classes for the GAN (steps)."""
