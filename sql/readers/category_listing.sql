-- Reader: a category listing in one channel, the category's subcategories
-- included, with each product's price range.
-- Parameters: $1 category id, $2 channel slug, $3 page size.
-- Fast by: product_category_path, a GIN index on the breadcrumb (jsonb_path_ops),
-- which answers "the path contains this category" for the whole subtree; the
-- primary key of product_channel joins the listings.
SELECT
    p.product_id,
    p.name,
    p.slug,
    p.category_name,
    pc.currency_code,
    pc.min_price,
    pc.max_price
FROM product AS p
JOIN product_channel AS pc ON pc.product_id = p.product_id
WHERE p.category_path @> jsonb_build_array(jsonb_build_object('id', $1::bigint))
  AND pc.channel_slug = $2
  AND pc.is_published
  AND pc.visible_in_listings
ORDER BY p.name, p.product_id
LIMIT $3
