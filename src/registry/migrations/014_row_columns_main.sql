-- The short columns of a DocumentEntry stay in its row. Since 013 keeps the LeafClass XML in the row
-- (storage main), a row is still above PostgreSQL's TOAST target (2 kB) once `rim` is out of line, and
-- the toaster's next step, before it compresses main columns, moved every other text column above 24
-- bytes out of line, one TOAST value each: entry_uuid, logical_id, patient_id, status, object_type, hash,
-- content_key... Reading a FindDocuments match then cost a TOAST index search and a chunk per column (134
-- buffers for 21 matches, against 30). With storage main, these columns are compressed or moved out only
-- as a last resort, after the LeafClass XML is compressed, which always makes room. `rim` (read only to
-- render rows without a template) and `inline_content` (signature bytes) keep storage extended. Existing
-- rows keep their layout until they are rewritten (VACUUM FULL, or pg_repack without a lock).
alter table document_entries
  alter column entry_uuid set storage main,
  alter column logical_id set storage main,
  alter column unique_id set storage main,
  alter column patient_id set storage main,
  alter column status set storage main,
  alter column object_type set storage main,
  alter column mime_type set storage main,
  alter column hash set storage main,
  alter column repository_unique_id set storage main,
  alter column content_key set storage main,
  alter column class_code set storage main,
  alter column class_scheme set storage main,
  alter column type_code set storage main,
  alter column type_scheme set storage main,
  alter column format_code set storage main,
  alter column format_scheme set storage main,
  alter column practice_setting_code set storage main,
  alter column practice_setting_scheme set storage main,
  alter column healthcare_facility_type_code set storage main,
  alter column healthcare_facility_type_scheme set storage main,
  alter column creation_time set storage main,
  alter column service_start_time set storage main,
  alter column service_stop_time set storage main,
  alter column language_code set storage main,
  alter column title set storage main,
  alter column submission_set_uuid set storage main;
