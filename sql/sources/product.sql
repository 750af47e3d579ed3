-- Source table product: the admin table ${source_schema}.product as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.product. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `product` (
    `id`              BIGINT NOT NULL,
    `product_type_id` BIGINT,
    `category_id`     BIGINT,
    `name`            STRING,
    `slug`            STRING,
    `description`     STRING,
    `rating`          INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
