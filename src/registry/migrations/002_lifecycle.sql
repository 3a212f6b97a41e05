-- Document lifecycle: logical deletion (ITI-62, DMP rules) and its record.
-- A deleted object keeps its row (and its bytes stay in the content store); `deleted_at` set means it
-- is gone for everyone: stored queries, retrieve and lifecycle references skip it.

alter table document_entries add column deleted_at timestamptz;
alter table folders add column deleted_at timestamptz;
alter table submission_sets add column deleted_at timestamptz;
alter table associations add column deleted_at timestamptz;

-- Who asked for each deletion and when (one row per object removed).
create table deletions (
  entry_uuid text not null,
  object_kind text not null check (object_kind in ('DocumentEntry', 'Folder', 'SubmissionSet', 'Association')),
  deleted_at timestamptz not null default now(),
  -- The caller's organisation (XON id of the author institution it was checked against); null when allowed without identity.
  organisation_id text,
  -- wsa:MessageID of the ITI-62 request.
  message_id text
);
create index deletions_entry_idx on deletions (entry_uuid);

