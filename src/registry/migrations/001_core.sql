-- XDS registry core: one row per registry object, its full ebRIM form in `rim`,
-- and the attributes that stored queries filter on as indexed columns.
-- Times are the DTM text as submitted (UTC, YYYY[MM[DD[hh[mm[ss]]]]]): comparable by prefix.

create table patients (
  patient_id text primary key,
  status text not null default 'active',
  created_at timestamptz not null default now()
);

create table submission_sets (
  entry_uuid text primary key,
  unique_id text not null,
  -- The gateway's job id: a retried commit of the same job finds it and does nothing.
  submission_id text not null,
  patient_id text not null,
  source_id text not null,
  submission_time text,
  content_type_code text,
  content_type_scheme text,
  status text not null,
  rim jsonb not null,
  committed_at timestamptz not null default now(),
  constraint submission_sets_unique_id_key unique (unique_id),
  constraint submission_sets_submission_id_key unique (submission_id)
);
create index submission_sets_patient_idx on submission_sets (patient_id, status);
create index submission_sets_source_idx on submission_sets (source_id);
create index submission_sets_time_idx on submission_sets (submission_time);
create index submission_sets_content_type_idx on submission_sets (content_type_code, content_type_scheme);

create table submission_set_authors (
  entry_uuid text not null references submission_sets (entry_uuid) on delete cascade,
  person text,
  institutions text[] not null default '{}',
  roles text[] not null default '{}',
  specialties text[] not null default '{}'
);
create index submission_set_authors_entry_idx on submission_set_authors (entry_uuid);
create index submission_set_authors_person_idx on submission_set_authors (person);

create table document_entries (
  entry_uuid text primary key,
  logical_id text not null,
  version int not null default 1,
  unique_id text not null,
  patient_id text not null,
  status text not null,
  object_type text not null,
  mime_type text not null,
  hash text,
  size bigint,
  repository_unique_id text,
  -- SHA-256 of the bytes in the content store; null when the bytes live elsewhere (ITI-42).
  content_key text,
  class_code text,
  class_scheme text,
  type_code text,
  type_scheme text,
  format_code text,
  format_scheme text,
  practice_setting_code text,
  practice_setting_scheme text,
  healthcare_facility_type_code text,
  healthcare_facility_type_scheme text,
  creation_time text,
  service_start_time text,
  service_stop_time text,
  language_code text,
  title text,
  submission_set_uuid text not null,
  rim jsonb not null,
  created_at timestamptz not null default now()
);
-- Versions of one document (ITI-57) share the uniqueId; two documents never do.
create unique index document_entries_unique_id_version_key on document_entries (unique_id, version);
create unique index document_entries_logical_id_version_key on document_entries (logical_id, version);
create index document_entries_patient_idx on document_entries (patient_id, status);
create index document_entries_class_idx on document_entries (class_code, class_scheme);
create index document_entries_type_idx on document_entries (type_code, type_scheme);
create index document_entries_format_idx on document_entries (format_code, format_scheme);
create index document_entries_practice_setting_idx on document_entries (practice_setting_code, practice_setting_scheme);
create index document_entries_facility_type_idx on document_entries (healthcare_facility_type_code, healthcare_facility_type_scheme);
create index document_entries_creation_time_idx on document_entries (creation_time);
create index document_entries_service_start_idx on document_entries (service_start_time);
create index document_entries_service_stop_idx on document_entries (service_stop_time);
create index document_entries_repository_idx on document_entries (repository_unique_id, unique_id);
create index document_entries_content_key_idx on document_entries (content_key);

create table document_entry_codes (
  entry_uuid text not null references document_entries (entry_uuid) on delete cascade,
  kind text not null check (kind in ('event', 'confidentiality')),
  code text not null,
  scheme text not null
);
create index document_entry_codes_entry_idx on document_entry_codes (entry_uuid);
create index document_entry_codes_code_idx on document_entry_codes (kind, code, scheme);

create table document_entry_authors (
  entry_uuid text not null references document_entries (entry_uuid) on delete cascade,
  person text,
  institutions text[] not null default '{}',
  roles text[] not null default '{}',
  specialties text[] not null default '{}'
);
create index document_entry_authors_entry_idx on document_entry_authors (entry_uuid);
create index document_entry_authors_person_idx on document_entry_authors (person);

create table folders (
  entry_uuid text primary key,
  unique_id text not null,
  patient_id text not null,
  status text not null,
  -- Registry-assigned: set when the folder is created and whenever a document is added to it.
  last_update_time text,
  rim jsonb not null,
  created_at timestamptz not null default now(),
  constraint folders_unique_id_key unique (unique_id)
);
create index folders_patient_idx on folders (patient_id, status);
create index folders_last_update_idx on folders (last_update_time);

create table folder_codes (
  entry_uuid text not null references folders (entry_uuid) on delete cascade,
  code text not null,
  scheme text not null
);
create index folder_codes_entry_idx on folder_codes (entry_uuid);
create index folder_codes_code_idx on folder_codes (code, scheme);

create table associations (
  entry_uuid text primary key,
  association_type text not null,
  source_uuid text not null,
  target_uuid text not null,
  status text not null,
  submission_set_uuid text not null,
  rim jsonb not null,
  created_at timestamptz not null default now()
);
create index associations_source_idx on associations (source_uuid, association_type);
create index associations_target_idx on associations (target_uuid, association_type);
