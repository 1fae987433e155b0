"""How a Piece is played: to MIDI, expressive or neutral (midi), and MIDI to sound (audio). Rendering never changes
the notes."""
