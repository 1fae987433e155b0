"""Who writes the notes, and how they are drawn: the registry of melody models (registry), the decoding both share
(sampling), the steps both take to continue a prompt (continuation), and the two models, each beside its training:
MIDINet's conditional GAN (gan, gan_training) and the emotion-token transformer (transformer, transformer_training)."""
