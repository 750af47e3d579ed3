-- The SQL baseline's job (flink_jobs/sql_baseline.py): every view of
-- sql/views/ into its JDBC sink (sql/baseline/sinks.sql), both INSERTs in one
-- statement set, so one Flink job reads the topics once for both views.
INSERT INTO `product_store` SELECT * FROM `product_view`;

INSERT INTO `product_channel_store` SELECT * FROM `product_channel_view`;
