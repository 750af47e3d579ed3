-- The SQL baseline's sinks (flink_jobs/sql_baseline.py): Flink's JDBC
-- connector writing each view into its store table (sql/store/001_catalog_view.sql),
-- upserting by the table's primary key. With a PRIMARY KEY the JDBC sink runs
-- in upsert mode: INSERT ... ON CONFLICT (key) DO UPDATE for inserts and
-- updates, DELETE by key for deletions, buffered and written in batches.
--
-- No transaction alignment and no watermark: a batch holds whatever rows came
-- out of the views by then, which may be half of a source transaction, and it
-- commits on its own (at a buffer limit, every flush interval, at a
-- checkpoint). There is no way to write the watermark row in the same store
-- transaction as those rows, so the baseline writes none; the checker
-- (catalog-view verify --baseline sql) and the benchmark judge it by comparing
-- the store with the reference queries instead.
--
-- The store's nested parts are jsonb, the views produce them as STRING, and
-- pgjdbc sends a string parameter as varchar: PostgreSQL refuses it with
--   ERROR: column "category_path" is of type jsonb but expression is of type
--   character varying
-- 'stringtype=unspecified' on the URL makes pgjdbc send strings untyped, so
-- the server casts them to the column's type (jsonb here, text elsewhere).
--
-- The buffer options are the connector's defaults (100 rows, 1 s), spelled
-- out because they decide how much of the views a store reader sees at once.

CREATE TABLE `product_store` (
    `product_id`        BIGINT NOT NULL,
    `name`              STRING,
    `slug`              STRING,
    `description`       STRING,
    `rating`            INT,
    `product_type_id`   BIGINT,
    `product_type_name` STRING,
    `product_type_slug` STRING,
    `category_id`       BIGINT,
    `category_name`     STRING,
    `category_slug`     STRING,
    `category_path`     STRING,
    `attributes`        STRING,
    `variants`          STRING,
    PRIMARY KEY (`product_id`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${store_jdbc_url}?stringtype=unspecified',
    'table-name' = '${store_schema}.product',
    'username' = '${store_user}',
    'password' = '${store_password}',
    'sink.buffer-flush.max-rows' = '100',
    'sink.buffer-flush.interval' = '1s'
);

CREATE TABLE `product_channel_store` (
    `product_id`          BIGINT NOT NULL,
    `channel_id`          BIGINT NOT NULL,
    `channel_slug`        STRING,
    `currency_code`       STRING,
    `is_published`        BOOLEAN,
    `publication_date`    DATE,
    `visible_in_listings` BOOLEAN,
    `variants`            STRING,
    `min_price`           DECIMAL(12, 2),
    `max_price`           DECIMAL(12, 2),
    PRIMARY KEY (`product_id`, `channel_id`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${store_jdbc_url}?stringtype=unspecified',
    'table-name' = '${store_schema}.product_channel',
    'username' = '${store_user}',
    'password' = '${store_password}',
    'sink.buffer-flush.max-rows' = '100',
    'sink.buffer-flush.interval' = '1s'
);
