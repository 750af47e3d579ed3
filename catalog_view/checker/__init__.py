"""The oracle checker, `catalog-view verify`: a seeded workload on the source,
Q(S(t)) recorded for every commit, the store sampled and judged against it
(catalog_view.checker.verify says how a run goes)."""
