-- Indexes for how the registry is read, not for every column. Every stored query names a patient (or asks
-- for objects by entryUUID / uniqueId), so a document is found by patient_idx, unique_id or entry_uuid
-- and its codes and times are filtered among that patient's entries: an index on a code or a time alone
-- was never chosen for them, and each one cost every submission an index insertion per document.
-- What was missing: the documents of one submission set (DSG signature verification, the console), which
-- scanned the whole table.
drop index if exists document_entries_class_idx;
drop index if exists document_entries_type_idx;
drop index if exists document_entries_format_idx;
drop index if exists document_entries_practice_setting_idx;
drop index if exists document_entries_facility_type_idx;
drop index if exists document_entries_creation_time_idx;
drop index if exists document_entries_service_start_idx;
drop index if exists document_entries_service_stop_idx;
drop index if exists document_entries_repository_idx;
create index document_entries_submission_set_idx on document_entries (submission_set_uuid);
