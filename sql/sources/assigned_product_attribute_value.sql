-- Source table assigned_product_attribute_value: the columns of the admin table ${source_schema}.assigned_product_attribute_value as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.assigned_product_attribute_value). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `assigned_product_attribute_value` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `value_id`   BIGINT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
