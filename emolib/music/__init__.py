"""Music: the piano-roll convention, MIDI, chords, audio and the melody datasets."""
