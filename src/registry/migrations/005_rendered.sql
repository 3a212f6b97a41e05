-- LeafClass XML of each registry object, rendered once at commit from `rim` (src/ebrim/serialize.ts
-- rimObjectTemplate) with placeholders for what the registry changes later (status, lid and version,
-- folder lastUpdateTime, home): stored queries fill these instead of decoding and re-rendering `rim`.
-- Null for rows written before this migration or by paths that do not render: queries then render `rim`.

alter table document_entries add column leaf_xml text;
alter table submission_sets add column leaf_xml text;
alter table folders add column leaf_xml text;
alter table associations add column leaf_xml text;
