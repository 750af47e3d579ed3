-- The store that readers query (docs/design.md, "Store contract"). Runs as the writer role,
-- which owns schema catalog_view; idempotent.
--
-- Nested parts are JSONB objects keyed by id, so that their value does not
-- depend on the order in which a streaming aggregate met its elements.

CREATE TABLE IF NOT EXISTS product (
    product_id        bigint PRIMARY KEY,
    name              text   NOT NULL,
    slug              text   NOT NULL,
    description       text   NOT NULL,
    rating            integer,
    product_type_id   bigint NOT NULL,
    product_type_name text,
    product_type_slug text,
    category_id       bigint,
    category_name     text,
    category_slug     text,
    -- [{"id", "name", "slug"}, ...] from the root down to the product's category.
    category_path     jsonb,
    -- {"<attribute_value_id>": {"attribute", "value", "name"}}
    attributes        jsonb  NOT NULL,
    -- {"<variant_id>": {"sku", "name", "attributes": {...as above}}}
    variants          jsonb  NOT NULL
);

CREATE TABLE IF NOT EXISTS product_channel (
    product_id          bigint  NOT NULL,
    channel_id          bigint  NOT NULL,
    channel_slug        text,
    currency_code       text,
    is_published        boolean NOT NULL,
    publication_date    date,
    visible_in_listings boolean NOT NULL,
    -- {"<variant_id>": {"sku", "price"}} for the variants listed in this channel.
    variants            jsonb   NOT NULL,
    min_price           numeric(12,2),
    max_price           numeric(12,2),
    PRIMARY KEY (product_id, channel_id)
);

-- One row: the source position the rows above reflect, written in the same
-- store transaction as the rows.
CREATE TABLE IF NOT EXISTS watermark (
    id             smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    -- The newest source commit the store is complete up to, and its time.
    -- Heartbeat transactions (cdc_heartbeat) advance these on a quiet catalog.
    commit_lsn     bigint      NOT NULL,
    -- The last source transaction that changed the catalog: the rows above
    -- equal the reference views evaluated right after it committed.
    source_txid    bigint,
    source_commit  timestamptz,
    applied_at     timestamptz NOT NULL DEFAULT now()
);
