-- The SQL baseline's sources (flink_jobs/sql_baseline.py): one Kafka table per
-- catalog table on that table's Debezium topic (the topics the aligned job
-- reads: flink_jobs/topics.py), decoded by Flink's own 'debezium-json' format.
-- This is what a Flink user writes today to keep a join of CDC tables: no
-- Python, no transaction topic. The columns are those of sql/sources/ (the
-- names the views in sql/views/ read); tests/test_unit_sql_baseline.py keeps
-- them equal.
--
-- What the format makes of the capture (Debezium 3.6, JSON converter without
-- schemas, decimal.handling.mode=string, REPLICA IDENTITY FULL):
-- * op c and r (snapshot rows) are inserts, u is -U(before) +U(after), d is a
--   delete of the before image: REPLICA IDENTITY FULL gives full before images,
--   so joins and aggregates retract the right rows.
-- * NUMERIC arrives as a JSON string ("9.99"): Flink's JSON reader parses a
--   DECIMAL from text, so price_amount is declared DECIMAL(12, 2) as usual.
-- * DATE arrives as days since 1970-01-01 (an int, io.debezium.time.Date),
--   while Flink's JSON reader wants ISO text for a DATE column ('2024-10-04');
--   declared DATE, the first snapshot row fails the job with
--     java.time.format.DateTimeParseException: Text '20311' could not be
--     parsed at index 0
--   (and with ignore-parse-errors, below, every date would silently be null).
--   publication_date is declared INT here and turned into a DATE by the view
--   product_channel_listing at the end of this file.
-- * TRUNCATE (op t: the connector runs with skipped.operations=none, for the
--   aligned job) is no change a Flink changelog can express, and the format
--   fails the job on it:
--     java.io.IOException: Unknown "op" value "t". The Debezium JSON message is '...'
--   The topics are shared with the aligned job and kept forever, so one
--   TRUNCATE anywhere in their history would stop this job at every start
--   (it restarts, replays and fails again): we must set
--   'debezium-json.ignore-parse-errors', and the job drops a TRUNCATE. Its
--   rows stay in the job's state and in the views until they are deleted
--   otherwise. The same option also drops an event it cannot decode and turns
--   a value it cannot read into null, silently; the aligned job stops on both
--   (or dead-letters them) and names the offset.
-- * A column dropped in the source is read as null (a missing JSON field);
--   a column added is ignored.
-- * Not read at all: the transaction topic (BEGIN/END of each source
--   transaction: a plain changelog join has no use for it), the heartbeat
--   table's topic and Debezium's heartbeat topic (nothing to show), the
--   notification topic (snapshot progress).
-- The consumer group is the job's with a suffix, so that its offset commits
-- never mix with the aligned job's; committed offsets are not used on start:
-- every start replays the topics from the first offset into an emptied store.

CREATE TABLE `assigned_product_attribute_value` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `value_id`   BIGINT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.assigned_product_attribute_value',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `assigned_variant_attribute_value` (
    `id`         BIGINT NOT NULL,
    `variant_id` BIGINT,
    `value_id`   BIGINT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.assigned_variant_attribute_value',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `attribute` (
    `id`         BIGINT NOT NULL,
    `name`       STRING,
    `slug`       STRING,
    `input_type` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.attribute',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `attribute_value` (
    `id`           BIGINT NOT NULL,
    `attribute_id` BIGINT,
    `name`         STRING,
    `slug`         STRING,
    `sort_order`   INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.attribute_value',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `category` (
    `id`          BIGINT NOT NULL,
    `parent_id`   BIGINT,
    `name`        STRING,
    `slug`        STRING,
    `description` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.category',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `channel` (
    `id`            BIGINT NOT NULL,
    `name`          STRING,
    `slug`          STRING,
    `currency_code` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.channel',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `product` (
    `id`              BIGINT NOT NULL,
    `product_type_id` BIGINT,
    `category_id`     BIGINT,
    `name`            STRING,
    `slug`            STRING,
    `description`     STRING,
    `rating`          INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `product_channel_listing_cdc` (
    `id`                  BIGINT NOT NULL,
    `product_id`          BIGINT,
    `channel_id`          BIGINT,
    `is_published`        BOOLEAN,
    `publication_date`    INT,
    `visible_in_listings` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_channel_listing',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `product_type` (
    `id`           BIGINT NOT NULL,
    `name`         STRING,
    `slug`         STRING,
    `has_variants` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_type',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `product_variant` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `sku`        STRING,
    `name`       STRING,
    `sort_order` INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_variant',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

CREATE TABLE `product_variant_channel_listing` (
    `id`           BIGINT NOT NULL,
    `variant_id`   BIGINT,
    `channel_id`   BIGINT,
    `price_amount` DECIMAL(12, 2),
    `currency`     STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_variant_channel_listing',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}-sql-baseline',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json',
    'debezium-json.ignore-parse-errors' = 'true'
);

-- Debezium's DATE (days since the epoch) as the DATE the views expect.
CREATE TEMPORARY VIEW `product_channel_listing` AS
SELECT
    `id`,
    `product_id`,
    `channel_id`,
    `is_published`,
    TIMESTAMPADD(DAY, `publication_date`, DATE '1970-01-01') AS `publication_date`,
    `visible_in_listings`
FROM `product_channel_listing_cdc`;
