-- Reference for view product, in plain PostgreSQL over the admin schema: the
-- judge of sql/views/product.sql. Written independently of the Flink SQL (a
-- recursive breadcrumb, jsonb aggregates); the column list matches
-- catalog_view.product. Runs with search_path set to the admin schema.
WITH RECURSIVE ancestry AS (
    SELECT c.id AS category_id, c.id AS ancestor_id, c.parent_id, 0 AS depth
    FROM category AS c
    UNION ALL
    SELECT a.category_id, p.id, p.parent_id, a.depth + 1
    FROM ancestry AS a
    JOIN category AS p ON p.id = a.parent_id
    WHERE a.depth < 9
),
category_path AS (
    SELECT
        a.category_id,
        jsonb_agg(
            jsonb_build_object('id', c.id, 'name', c.name, 'slug', c.slug)
            ORDER BY a.depth DESC
        ) AS path
    FROM ancestry AS a
    JOIN category AS c ON c.id = a.ancestor_id
    GROUP BY a.category_id
),
attribute_value_json AS (
    SELECT
        av.id AS value_id,
        jsonb_build_object('attribute', a.slug, 'value', av.slug, 'name', av.name) AS value
    FROM attribute_value AS av
    JOIN attribute AS a ON a.id = av.attribute_id
),
product_attributes AS (
    SELECT apav.product_id, jsonb_object_agg(avj.value_id::text, avj.value) AS attributes
    FROM assigned_product_attribute_value AS apav
    JOIN attribute_value_json AS avj ON avj.value_id = apav.value_id
    GROUP BY apav.product_id
),
variant_attributes AS (
    SELECT avav.variant_id, jsonb_object_agg(avj.value_id::text, avj.value) AS attributes
    FROM assigned_variant_attribute_value AS avav
    JOIN attribute_value_json AS avj ON avj.value_id = avav.value_id
    GROUP BY avav.variant_id
),
product_variants AS (
    SELECT
        v.product_id,
        jsonb_object_agg(
            v.id::text,
            jsonb_build_object(
                'sku', v.sku,
                'name', v.name,
                'attributes', COALESCE(va.attributes, '{}'::jsonb)
            )
        ) AS variants
    FROM product_variant AS v
    LEFT JOIN variant_attributes AS va ON va.variant_id = v.id
    GROUP BY v.product_id
)
SELECT
    p.id AS product_id,
    p.name,
    p.slug,
    p.description,
    p.rating,
    p.product_type_id,
    pt.name AS product_type_name,
    pt.slug AS product_type_slug,
    p.category_id,
    c.name AS category_name,
    c.slug AS category_slug,
    cp.path AS category_path,
    COALESCE(pa.attributes, '{}'::jsonb) AS attributes,
    COALESCE(pv.variants, '{}'::jsonb) AS variants
FROM product AS p
LEFT JOIN product_type AS pt ON pt.id = p.product_type_id
LEFT JOIN category AS c ON c.id = p.category_id
LEFT JOIN category_path AS cp ON cp.category_id = p.category_id
LEFT JOIN product_attributes AS pa ON pa.product_id = p.id
LEFT JOIN product_variants AS pv ON pv.product_id = p.id
