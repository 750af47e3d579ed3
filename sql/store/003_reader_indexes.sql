-- Indexes of the SQL readers that run on the store (sql/readers/,
-- docs/readers.md). Runs as the writer role, like 001 and 002; idempotent.
-- The commit stage pays for them on every write of a product row: only the
-- readers' access paths, nothing speculative.

-- The product page finds its product by slug.
CREATE INDEX IF NOT EXISTS product_slug ON product (slug);

-- A category listing takes the category's whole subtree: the breadcrumb
-- (an array of {"id", "name", "slug"} from the root) contains the category.
CREATE INDEX IF NOT EXISTS product_category_path
    ON product USING gin (category_path jsonb_path_ops);

-- The attribute filter asks for products having all of some attribute
-- value ids (the keys of attributes).
CREATE INDEX IF NOT EXISTS product_attributes ON product USING gin (attributes);
