-- Source table product_channel_listing: the admin table ${source_schema}.product_channel_listing as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.product_channel_listing. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `product_channel_listing` (
    `id`                  BIGINT NOT NULL,
    `product_id`          BIGINT,
    `channel_id`          BIGINT,
    `is_published`        BOOLEAN,
    `publication_date`    DATE,
    `visible_in_listings` BOOLEAN,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.product_channel_listing',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
