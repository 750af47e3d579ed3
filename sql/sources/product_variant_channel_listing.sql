-- Source table product_variant_channel_listing: the admin table ${source_schema}.product_variant_channel_listing as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.product_variant_channel_listing. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
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
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
