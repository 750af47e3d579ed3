-- Variants of each product with their own attributes:
--   {"<variant_id>": {"sku", "name", "attributes": {...}}}
CREATE TEMPORARY VIEW variant_attributes AS
SELECT
    avav.variant_id,
    '{' || LISTAGG(avj.json_member, ',') || '}' AS attributes
FROM assigned_variant_attribute_value AS avav
JOIN attribute_value_json AS avj ON avj.value_id = avav.value_id
GROUP BY avav.variant_id;

CREATE TEMPORARY VIEW product_variants AS
SELECT
    v.product_id,
    '{' || LISTAGG(
        JSON_STRING(CAST(v.id AS STRING)) || ':{"sku":' || JSON_STRING(v.sku)
            || ',"name":' || JSON_STRING(v.name)
            || ',"attributes":' || COALESCE(va.attributes, '{}') || '}',
        ','
    ) || '}' AS variants
FROM product_variant AS v
LEFT JOIN variant_attributes AS va ON va.variant_id = v.id
GROUP BY v.product_id;
