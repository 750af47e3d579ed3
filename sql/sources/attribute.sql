-- Source table attribute: the columns of the admin table ${source_schema}.attribute as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.attribute). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `attribute` (
    `id`         BIGINT NOT NULL,
    `name`       STRING,
    `slug`       STRING,
    `input_type` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
