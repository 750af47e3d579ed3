-- Source table product_type: the columns of the admin table ${source_schema}.product_type as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.product_type). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `product_type` (
    `id`           BIGINT NOT NULL,
    `name`         STRING,
    `slug`         STRING,
    `has_variants` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
