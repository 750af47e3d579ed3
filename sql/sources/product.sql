-- Source table product: the columns of the admin table ${source_schema}.product as the
-- job sees them (Debezium topic ${topic_prefix}.${source_schema}.product). The job
-- reads only the schema from this DDL: rows enter through the transaction
-- assembler (sql/capture/records.sql), never through this table's connector.
CREATE TABLE `product` (
    `id`              BIGINT NOT NULL,
    `product_type_id` BIGINT,
    `category_id`     BIGINT,
    `name`            STRING,
    `slug`            STRING,
    `description`     STRING,
    `rating`          INT,
    PRIMARY KEY (`id`) NOT ENFORCED
) WITH ('connector' = 'blackhole')
