"""The admin catalog as the tools write it: single writes and bulk imports
(writes), and a reproducible seeded catalog (seeded)."""
