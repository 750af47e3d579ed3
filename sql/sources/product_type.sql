-- Source table product_type: the admin table ${source_schema}.product_type as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.product_type. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `product_type` (
    `id`           BIGINT NOT NULL,
    `name`         STRING,
    `slug`         STRING,
    `has_variants` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_type',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
