"""Music: the piano-roll convention, MIDI, chords, keys, datasets, rendering and audio, the GAN, the transformer, the emotion judge and the metrics."""
