"""Face data: FER2013 and other labelled image folders with their own splits (datasets), the FER+ relabelling
(ferplus), the drawn faces that stand in offline (synthetic) and the licensed sample faces that ship (samples)."""
