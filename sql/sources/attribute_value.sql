-- Source table attribute_value: the columns of the admin table ${source_schema}.attribute_value as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.attribute_value). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `attribute_value` (
    `id`           BIGINT NOT NULL,
    `attribute_id` BIGINT,
    `name`         STRING,
    `slug`         STRING,
    `sort_order`   INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
