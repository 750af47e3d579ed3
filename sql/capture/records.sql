-- Every captured record, of every table topic and of the transaction topic,
-- through ONE source operator: with all tables in one source, a checkpoint
-- barrier is a consistent cut across tables (docs/design.md, "Why a unit is a
-- consistent cut"). Values are kept raw; the transaction assembler decodes
-- them. Topic, partition and offset are kept so that an event that cannot be
-- applied is named exactly.
CREATE TABLE capture_records (
    `topic`     STRING METADATA FROM 'topic' VIRTUAL,
    `partition` INT    METADATA FROM 'partition' VIRTUAL,
    `offset`    BIGINT METADATA FROM 'offset' VIRTUAL,
    `value`     STRING
) WITH (
    'connector' = 'kafka',
    'topic' = '${topics}',
    'properties.bootstrap.servers' = '${bootstrap_servers}',
    'properties.group.id' = '${group_id}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'raw'
)
