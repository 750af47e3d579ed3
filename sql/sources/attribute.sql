-- Source table attribute: the admin table ${source_schema}.attribute as captured by
-- Debezium into topic ${topic_prefix}.${source_schema}.attribute. The columns are the
-- job's schema for this table; the WITH clause reads the topic directly as a
-- debezium-json changelog (used by the plain-join pipeline).
CREATE TABLE `attribute` (
    `id`         BIGINT NOT NULL,
    `name`       STRING,
    `slug`       STRING,
    `input_type` STRING,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH (
    'connector' = 'kafka',
    'topic' = '${topic_prefix}.${source_schema}.attribute',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'debezium-json'
)
