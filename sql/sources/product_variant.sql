-- Source table product_variant: the columns of the admin table ${source_schema}.product_variant as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.product_variant). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `product_variant` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `sku`        STRING,
    `name`       STRING,
    `sort_order` INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
