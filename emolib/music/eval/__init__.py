"""Every yardstick for a melody: MusPy-style metrics (metrics), the melodic features a listener hears (features), a
critic that tries to tell generated tunes from real ones (critic), whether a tune copies a training tune (copying),
an emotion judge trained on EMOPIA's labels (judge), and the benchmarks built on them (benchmark)."""
