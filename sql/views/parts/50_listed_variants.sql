-- Variants listed per (product, channel) with their price in that channel.
CREATE TEMPORARY VIEW listed_variants AS
SELECT
    v.product_id,
    vcl.channel_id,
    '{' || LISTAGG(
        JSON_STRING(CAST(v.id AS STRING)) || ':{"sku":' || JSON_STRING(v.sku)
            || ',"price":' || COALESCE(CAST(vcl.price_amount AS STRING), 'null') || '}',
        ','
    ) || '}' AS variants,
    MIN(vcl.price_amount) AS min_price,
    MAX(vcl.price_amount) AS max_price
FROM product_variant_channel_listing AS vcl
JOIN product_variant AS v ON v.id = vcl.variant_id
GROUP BY v.product_id, vcl.channel_id;
