"""What emolib reads and writes, safely: a file is checked before it is read (reading), a checkpoint is loaded without
running code and checked before a network is built (checkpoints), and an output never replaces an input or appears
half-written (writing)."""
