-- Staging for large units of the committing sink (jvm/,
-- docs/design.md, "Commit stage"). Runs as the writer role; idempotent. Readers get nothing here
-- (catalog_view/stack/postgres.py revokes their SELECT).
--
-- The sink's writer nets a unit in memory up to a bound, then COPYs the netted
-- chunk here and commits it before the checkpoint; the committer nets the
-- unit's chunks in SQL, applies the result and deletes the unit's rows in the
-- one store transaction that also writes the watermark. Logged on purpose: a
-- unit staged before a checkpoint must survive a store crash until it is
-- committed.

-- One value per writer instance (writer_epoch): later writers get larger
-- values, so the committer of a unit of epoch E may delete the rows of every
-- epoch below E (see StoreCommitter).
CREATE SEQUENCE IF NOT EXISTS unit_staging_epoch;

CREATE TABLE IF NOT EXISTS unit_staging (
    writer_epoch bigint  NOT NULL,
    -- The unit within its writer's epoch.
    unit_seq     bigint  NOT NULL,
    view_name    text    COLLATE "C" NOT NULL,
    row_key      text    COLLATE "C",
    -- A whole row image (JSON text exactly as the job emitted it) and how many
    -- times the chunk adds (+) or retracts (-) it.
    payload      text    COLLATE "C" NOT NULL,
    net_count    integer NOT NULL
);

CREATE INDEX IF NOT EXISTS unit_staging_unit ON unit_staging (writer_epoch, unit_seq);
