-- Product attributes as one JSON object per product (see attribute_value_json).
CREATE TEMPORARY VIEW product_attributes AS
SELECT
    apav.product_id,
    '{' || LISTAGG(avj.json_member, ',') || '}' AS attributes
FROM assigned_product_attribute_value AS apav
JOIN attribute_value_json AS avj ON avj.value_id = apav.value_id
GROUP BY apav.product_id;
