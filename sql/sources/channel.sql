-- Source table channel: the columns of the admin table ${source_schema}.channel as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.channel). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `channel` (
    `id`            BIGINT NOT NULL,
    `name`          STRING,
    `slug`          STRING,
    `currency_code` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
