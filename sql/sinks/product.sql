-- Commit rows of view product for the transactional store sink: one
-- (view_name, row_key, payload) per view row, the payload holding every column
-- of catalog_view.product as JSON (nested parts embedded raw with JSON()).
-- The sink nets a checkpoint's rows as a multiset of these images, so the
-- payload must be a pure function of the row: JSON_OBJECT keeps key order.
SELECT
    'product' AS view_name,
    CAST(product_id AS STRING) AS row_key,
    JSON_OBJECT(
        'product_id' VALUE product_id,
        'name' VALUE name,
        'slug' VALUE slug,
        'description' VALUE description,
        'rating' VALUE rating,
        'product_type_id' VALUE product_type_id,
        'product_type_name' VALUE product_type_name,
        'product_type_slug' VALUE product_type_slug,
        'category_id' VALUE category_id,
        'category_name' VALUE category_name,
        'category_slug' VALUE category_slug,
        'category_path' VALUE JSON(category_path),
        'attributes' VALUE JSON(attributes),
        'variants' VALUE JSON(variants)
        NULL ON NULL
    ) AS payload
FROM product_view
