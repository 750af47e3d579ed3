-- The SQL baseline (flink_jobs/sql_baseline.py): the settings a Flink SQL
-- user puts in front of the job, in the SQL client's SET syntax. PyFlink's
-- execute_sql takes no SET statement, so the job applies each one to the
-- table config itself; pasted into Flink's SQL client, the files of
-- sql/baseline/ (settings, sources, then sql/views, sinks, insert) run as they are.

-- Debezium delivers at least once: after a connector or broker failure it
-- sends some change events again. Flink's documentation (Debezium format,
-- "Duplicate change events") says to set this and declare a PRIMARY KEY on
-- every source table: the planner then adds a ChangelogNormalize operator per
-- table that drops the duplicates, instead of joining a row twice.
SET 'table.exec.source.cdc-events-duplicate' = 'true';

-- An upsert sink keyed by the store's primary key needs the view's rows keyed
-- the same way; the planner cannot derive that key for either view (product's
-- chain of outer joins loses the uniqueness of product.id, product_channel
-- drops the listing's id), so it puts a SinkUpsertMaterializer in front of
-- each sink: state holding every view row, turning retractions into upserts.
-- 'auto' is the default; stated here because it is the price of upserting.
SET 'table.exec.sink.upsert-materialize' = 'auto';
