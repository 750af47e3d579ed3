-- View product_channel: one row per product channel listing (docs/design.md, "Store contract").
-- Judge: sql/reference/product_channel.sql. A listing whose product does not
-- exist is not shown; a missing channel shows null slug and currency.
CREATE TEMPORARY VIEW product_channel_view AS
SELECT
    pcl.product_id,
    pcl.channel_id,
    ch.slug AS channel_slug,
    ch.currency_code,
    pcl.is_published,
    pcl.publication_date,
    pcl.visible_in_listings,
    COALESCE(lv.variants, '{}') AS variants,
    lv.min_price,
    lv.max_price
FROM product_channel_listing AS pcl
JOIN product AS p ON p.id = pcl.product_id
LEFT JOIN channel AS ch ON ch.id = pcl.channel_id
LEFT JOIN listed_variants AS lv
    ON lv.product_id = pcl.product_id AND lv.channel_id = pcl.channel_id;
