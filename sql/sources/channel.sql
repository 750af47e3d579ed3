-- Source table channel: the admin table ${source_schema}.channel as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.channel. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `channel` (
    `id`            BIGINT NOT NULL,
    `name`          STRING,
    `slug`          STRING,
    `currency_code` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.channel',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
