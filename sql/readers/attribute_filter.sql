-- Reader: products carrying every one of some attribute values (a facet
-- filter), by attribute value id, with their price in one channel.
-- Parameters: $1 attribute value ids as a text array (e.g. '{12,40}'),
-- $2 channel slug, $3 page size.
-- Fast by: product_attributes, a GIN index on the attributes object (keyed by
-- value id), which answers ?& (has all these keys).
SELECT
    p.product_id,
    p.name,
    p.slug,
    pc.min_price,
    pc.max_price
FROM product AS p
JOIN product_channel AS pc ON pc.product_id = p.product_id
WHERE p.attributes ?& $1::text[]
  AND pc.channel_slug = $2
  AND pc.is_published
ORDER BY p.name, p.product_id
LIMIT $3
