-- FindDocuments, the query of every professional opening a record: a patient's entries narrowed by status,
-- class and creation time (the conditions sql.ts writes so that an index can use them), then the LeafClass
-- XML of those that match. The patient index gets the class and the time, so that only the matching rows
-- are read; and the LeafClass XML (2-3 kB once compressed) stays in the row instead of the TOAST table, so
-- that reading a match is one page instead of three (the row, the TOAST index, the chunks). Existing rows
-- keep their storage until they are rewritten (VACUUM FULL, or pg_repack without a lock).
alter table document_entries alter column leaf_xml set storage main;
create index document_entries_patient_class_time_idx on document_entries (patient_id, status, class_code, creation_time);
drop index document_entries_patient_idx;
