-- Source table category: the admin table ${source_schema}.category as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.category. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `category` (
    `id`          BIGINT NOT NULL,
    `parent_id`   BIGINT,
    `name`        STRING,
    `slug`        STRING,
    `description` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.category',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
