-- Source table product_channel_listing: the columns of the admin table ${source_schema}.product_channel_listing as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.product_channel_listing). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `product_channel_listing` (
    `id`                  BIGINT NOT NULL,
    `product_id`          BIGINT,
    `channel_id`          BIGINT,
    `is_published`        BOOLEAN,
    `publication_date`    DATE,
    `visible_in_listings` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
