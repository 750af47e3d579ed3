-- The breadcrumb of every category: [{"id", "name", "slug"}, ...] from the root
-- down to the category itself. Flink SQL has no recursive queries, so the tree
-- is walked by a fixed chain of self-joins: categories up to 10 levels deep
-- (seed and workloads stay within 8). The walk stops at a missing parent, as
-- the reference query does.
CREATE TEMPORARY VIEW category_path AS
SELECT
    c0.id AS category_id,
    c0.name AS category_name,
    c0.slug AS category_slug,
    '[' || CONCAT_WS(',',
        '{"id":' || CAST(c9.id AS STRING) || ',"name":' || JSON_STRING(c9.name) || ',"slug":' || JSON_STRING(c9.slug) || '}',
        '{"id":' || CAST(c8.id AS STRING) || ',"name":' || JSON_STRING(c8.name) || ',"slug":' || JSON_STRING(c8.slug) || '}',
        '{"id":' || CAST(c7.id AS STRING) || ',"name":' || JSON_STRING(c7.name) || ',"slug":' || JSON_STRING(c7.slug) || '}',
        '{"id":' || CAST(c6.id AS STRING) || ',"name":' || JSON_STRING(c6.name) || ',"slug":' || JSON_STRING(c6.slug) || '}',
        '{"id":' || CAST(c5.id AS STRING) || ',"name":' || JSON_STRING(c5.name) || ',"slug":' || JSON_STRING(c5.slug) || '}',
        '{"id":' || CAST(c4.id AS STRING) || ',"name":' || JSON_STRING(c4.name) || ',"slug":' || JSON_STRING(c4.slug) || '}',
        '{"id":' || CAST(c3.id AS STRING) || ',"name":' || JSON_STRING(c3.name) || ',"slug":' || JSON_STRING(c3.slug) || '}',
        '{"id":' || CAST(c2.id AS STRING) || ',"name":' || JSON_STRING(c2.name) || ',"slug":' || JSON_STRING(c2.slug) || '}',
        '{"id":' || CAST(c1.id AS STRING) || ',"name":' || JSON_STRING(c1.name) || ',"slug":' || JSON_STRING(c1.slug) || '}',
        '{"id":' || CAST(c0.id AS STRING) || ',"name":' || JSON_STRING(c0.name) || ',"slug":' || JSON_STRING(c0.slug) || '}'
    ) || ']' AS path
FROM category AS c0
LEFT JOIN category AS c1 ON c1.id = c0.parent_id
LEFT JOIN category AS c2 ON c2.id = c1.parent_id
LEFT JOIN category AS c3 ON c3.id = c2.parent_id
LEFT JOIN category AS c4 ON c4.id = c3.parent_id
LEFT JOIN category AS c5 ON c5.id = c4.parent_id
LEFT JOIN category AS c6 ON c6.id = c5.parent_id
LEFT JOIN category AS c7 ON c7.id = c6.parent_id
LEFT JOIN category AS c8 ON c8.id = c7.parent_id
LEFT JOIN category AS c9 ON c9.id = c8.parent_id;
