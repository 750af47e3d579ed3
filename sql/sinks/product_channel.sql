-- Commit rows of view product_channel for the transactional store sink (see
-- sql/sinks/product.sql): the payload holds every column of
-- catalog_view.product_channel, written out with || for the same reason.
SELECT
    'product_channel' AS view_name,
    CAST(product_id AS STRING) || '/' || CAST(channel_id AS STRING) AS row_key,
    '{"product_id":' || CAST(product_id AS STRING)
        || ',"channel_id":' || CAST(channel_id AS STRING)
        || ',"channel_slug":' || COALESCE(JSON_STRING(channel_slug), 'null')
        || ',"currency_code":' || COALESCE(JSON_STRING(currency_code), 'null')
        || ',"is_published":' || COALESCE(JSON_STRING(is_published), 'null')
        -- ISO text is what PostgreSQL reads back into a date.
        || ',"publication_date":' || COALESCE(JSON_STRING(CAST(publication_date AS STRING)), 'null')
        || ',"visible_in_listings":' || COALESCE(JSON_STRING(visible_in_listings), 'null')
        || ',"variants":' || variants
        || ',"min_price":' || COALESCE(CAST(min_price AS STRING), 'null')
        || ',"max_price":' || COALESCE(CAST(max_price AS STRING), 'null')
        || '}' AS payload
FROM product_channel_view
