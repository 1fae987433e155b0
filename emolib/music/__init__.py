"""Music: how a melody is represented (notes/), where pieces come from (data/), who writes the notes and how they are
drawn (models/), the form the models are conditioned on (form) and the explicit edits after them (post), how a piece
is played (render/) and judged (eval/), and composing as visible steps on top (compose)."""
