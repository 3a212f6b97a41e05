-- DMP access policy: the patient's record (consent, closing, retention), the patient's settings,
-- and the ATNA audit trail that the access history reads.

create table patient_records (
  -- The patient's INS as a CX (`<INS>^^^&<oid>&ISO`), as in the registry's patientId.
  patient_id text primary key,
  status text not null check (status in ('open', 'closed')),
  -- Who collected the patient's consent when the record was created.
  consent_channel text not null check (consent_channel in ('patient-online', 'insurance-office', 'professional', 'pharmacist', 'hospital')),
  consent_at timestamptz not null,
  -- Id of the person or structure that created it (IdNat, or the patient's own INS).
  created_by text,
  emergency_access text not null default 'allowed' check (emergency_access in ('allowed', 'refused')),
  closed_at timestamptz,
  closed_reason text,
  -- Closed records are destroyed by the purge once this time has passed.
  purge_after timestamptz
);
create index patient_records_purge_idx on patient_records (purge_after) where status = 'closed';

-- Professionals the patient has blocked (IdNat_PS: 8+RPPS, 0+ADELI).
create table blocked_professionals (
  patient_id text not null references patient_records (patient_id) on delete cascade,
  professional_id text not null,
  blocked_at timestamptz not null,
  primary key (patient_id, professional_id)
);

-- Documents the patient has masked from professionals (as MASQUE_PS, by the patient's choice).
create table masked_documents (
  patient_id text not null references patient_records (patient_id) on delete cascade,
  document_unique_id text not null,
  masked_at timestamptz not null,
  primary key (patient_id, document_unique_id)
);

-- One row per audited event (DICOM PS3.15 A.5 AuditMessage in `message`), in the order recorded.
create table audit_events (
  id bigserial primary key,
  recorded_at timestamptz not null,
  event_id text not null,
  event_action text not null,
  event_type text not null,
  outcome int not null,
  user_id text,
  user_name text,
  organisation_id text,
  purpose_of_use text,
  break_glass boolean not null default false,
  patient_ids text[] not null default '{}',
  document_ids text[] not null default '{}',
  message text not null
);
create index audit_events_patients_idx on audit_events using gin (patient_ids);
