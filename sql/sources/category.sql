-- Source table category: the columns of the admin table ${source_schema}.category as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.category). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `category` (
    `id`          BIGINT NOT NULL,
    `parent_id`   BIGINT,
    `name`        STRING,
    `slug`        STRING,
    `description` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
