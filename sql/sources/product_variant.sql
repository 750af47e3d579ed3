-- Source table product_variant: the admin table ${source_schema}.product_variant as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.product_variant. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `product_variant` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `sku`        STRING,
    `name`       STRING,
    `sort_order` INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_variant',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
