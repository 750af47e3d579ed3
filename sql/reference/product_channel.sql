-- Reference for view product_channel, in plain PostgreSQL over the admin
-- schema: the judge of sql/views/product_channel.sql. The column list matches
-- catalog_view.product_channel. Runs with search_path set to the admin schema.
WITH listed_variants AS (
    SELECT
        v.product_id,
        vcl.channel_id,
        jsonb_object_agg(v.id::text, jsonb_build_object('sku', v.sku, 'price', vcl.price_amount))
            AS variants,
        min(vcl.price_amount) AS min_price,
        max(vcl.price_amount) AS max_price
    FROM product_variant_channel_listing AS vcl
    JOIN product_variant AS v ON v.id = vcl.variant_id
    GROUP BY v.product_id, vcl.channel_id
)
SELECT
    pcl.product_id,
    pcl.channel_id,
    ch.slug AS channel_slug,
    ch.currency_code,
    pcl.is_published,
    pcl.publication_date,
    pcl.visible_in_listings,
    COALESCE(lv.variants, '{}'::jsonb) AS variants,
    lv.min_price,
    lv.max_price
FROM product_channel_listing AS pcl
JOIN product AS p ON p.id = pcl.product_id
LEFT JOIN channel AS ch ON ch.id = pcl.channel_id
LEFT JOIN listed_variants AS lv
    ON lv.product_id = pcl.product_id AND lv.channel_id = pcl.channel_id
