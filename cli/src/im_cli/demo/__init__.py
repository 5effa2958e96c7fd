"""The Hannover demo city: a deterministic plan (`city`) seeded through the bus (`seed`)."""
