-- Commit rows of view product for the transactional store sink: one
-- (view_name, row_key, payload) per view row, the payload holding every column
-- of catalog_view.product as a JSON object (the store reads it with
-- json_populate_record). The sink nets a checkpoint's rows as a multiset of
-- these images, so the payload must be a pure function of the row.
--
-- Written out with || rather than JSON_OBJECT: JSON_OBJECT parses every nested
-- JSON() value into a map and serializes it again, which was half the CPU of
-- the task that joins a product's variants. The nested parts are JSON text
-- already (built with JSON_STRING by the views): they go in as they are.
-- Scalars: numbers as their text, strings through JSON_STRING, NULL as null.
SELECT
    'product' AS view_name,
    CAST(product_id AS STRING) AS row_key,
    '{"product_id":' || CAST(product_id AS STRING)
        || ',"name":' || JSON_STRING(name)
        || ',"slug":' || JSON_STRING(slug)
        || ',"description":' || JSON_STRING(description)
        || ',"rating":' || COALESCE(CAST(rating AS STRING), 'null')
        || ',"product_type_id":' || CAST(product_type_id AS STRING)
        || ',"product_type_name":' || COALESCE(JSON_STRING(product_type_name), 'null')
        || ',"product_type_slug":' || COALESCE(JSON_STRING(product_type_slug), 'null')
        || ',"category_id":' || COALESCE(CAST(category_id AS STRING), 'null')
        || ',"category_name":' || COALESCE(JSON_STRING(category_name), 'null')
        || ',"category_slug":' || COALESCE(JSON_STRING(category_slug), 'null')
        || ',"category_path":' || COALESCE(category_path, 'null')
        || ',"attributes":' || attributes
        || ',"variants":' || variants
        || '}' AS payload
FROM product_view
