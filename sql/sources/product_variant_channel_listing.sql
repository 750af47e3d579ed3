-- Source table product_variant_channel_listing: the columns of the admin table ${source_schema}.product_variant_channel_listing as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.product_variant_channel_listing). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `product_variant_channel_listing` (
    `id`           BIGINT NOT NULL,
    `variant_id`   BIGINT,
    `channel_id`   BIGINT,
    `price_amount` DECIMAL(12, 2),
    `currency`     STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
