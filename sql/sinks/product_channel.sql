-- Commit rows of view product_channel for the transactional store sink (see
-- sql/sinks/product.sql): the payload holds every column of
-- catalog_view.product_channel.
SELECT
    'product_channel' AS view_name,
    CAST(product_id AS STRING) || '/' || CAST(channel_id AS STRING) AS row_key,
    JSON_OBJECT(
        'product_id' VALUE product_id,
        'channel_id' VALUE channel_id,
        'channel_slug' VALUE channel_slug,
        'currency_code' VALUE currency_code,
        'is_published' VALUE is_published,
        -- JSON_OBJECT takes no DATE; ISO text is what PostgreSQL reads back.
        'publication_date' VALUE CAST(publication_date AS STRING),
        'visible_in_listings' VALUE visible_in_listings,
        'variants' VALUE JSON(variants),
        'min_price' VALUE min_price,
        'max_price' VALUE max_price
        NULL ON NULL
    ) AS payload
FROM product_channel_view
