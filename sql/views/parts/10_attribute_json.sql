-- One JSON member per attribute value, keyed by the value's id:
--   "<value_id>": {"attribute": <attribute slug>, "value": <value slug>, "name": <value name>}
-- JSON is built as text with JSON_STRING doing the escaping: Flink's
-- JSON_OBJECT needs literal keys and escapes a nested JSON string taken from a
-- subquery, while text members can be aggregated with LISTAGG (which retracts).
CREATE TEMPORARY VIEW attribute_value_json AS
SELECT
    av.id AS value_id,
    JSON_STRING(CAST(av.id AS STRING)) || ':{"attribute":' || JSON_STRING(a.slug)
        || ',"value":' || JSON_STRING(av.slug)
        || ',"name":' || JSON_STRING(av.name) || '}' AS json_member
FROM attribute_value AS av
JOIN attribute AS a ON a.id = av.attribute_id;
