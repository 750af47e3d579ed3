-- Source table assigned_product_attribute_value: the admin table ${source_schema}.assigned_product_attribute_value as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.assigned_product_attribute_value. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `assigned_product_attribute_value` (
    `id`         BIGINT NOT NULL,
    `product_id` BIGINT,
    `value_id`   BIGINT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.assigned_product_attribute_value',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
