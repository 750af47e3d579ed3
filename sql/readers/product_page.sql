-- Reader: a product page in one channel, by the product's slug.
-- Parameters: $1 product slug, $2 channel slug.
-- Fast by: product_slug (sql/store/003_reader_indexes.sql) finds the product,
-- the primary key of product_channel (product_id, channel_id) its listings.
-- A product that is not published in the channel shows no row.
SELECT
    p.product_id,
    p.name,
    p.slug,
    p.description,
    p.rating,
    p.category_path,
    p.attributes,
    p.variants AS variant_details,
    pc.channel_slug,
    pc.currency_code,
    pc.variants AS variant_prices,
    pc.min_price,
    pc.max_price
FROM product AS p
JOIN product_channel AS pc ON pc.product_id = p.product_id
WHERE p.slug = $1
  AND pc.channel_slug = $2
  AND pc.is_published
