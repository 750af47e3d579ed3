-- Reader: the price range of a category listing (the price filter's bounds),
-- the same products as category_listing.sql.
-- Parameters: $1 category id, $2 channel slug.
-- Fast by: product_category_path (as category_listing.sql).
SELECT
    min(pc.min_price) AS lowest_price,
    max(pc.max_price) AS highest_price,
    count(*) AS products
FROM product AS p
JOIN product_channel AS pc ON pc.product_id = p.product_id
WHERE p.category_path @> jsonb_build_array(jsonb_build_object('id', $1::bigint))
  AND pc.channel_slug = $2
  AND pc.is_published
  AND pc.visible_in_listings
