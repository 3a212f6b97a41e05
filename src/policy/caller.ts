import type { Caller } from '../registry/deletion.js';

/** Why a professional opens the record (VIHF purposeofuse): normal care, break-glass, or SAMU regulation. */
export type PurposeOfUse = 'normal' | 'emergency' | 'regulation';

/** A coded value of the token (role, profession, specialty), as the VIHF carries it. */
export interface CodedValue {
  code: string;
  codeSystem?: string;
  displayName?: string;
}

/** A health professional (or the person responsible for an automated feed), as a verified VIHF assertion names them. */
export interface ProfessionalCaller extends Caller {
  kind: 'professional';
  /** National identifier (IdNat_PS): `8` + RPPS or `0` + ADELI, or the id of a non-professional user. */
  professionalId: string;
  professionalIdType: 'RPPS' | 'ADELI' | 'other';
  /** subject-id: name (and service) of the user. */
  name?: string;
  roles: CodedValue[];
  /** Identifiant_Structure (IdNat_Struct): `1` + FINESS, `3` + SIRET, `4` + RPPS of a practice. */
  organisationId: string;
  organisationIdType: 'FINESS' | 'SIRET' | 'RPPS' | 'other';
  organisationName?: string;
  purposeOfUse: PurposeOfUse;
  /** resource-id: the patient concerned (CX with the INS), when the token names one. */
  patientId?: string;
  assertionId: string;
  issuer: string;
}

/** A patient using the REST API with their own session token. */
export interface PatientCaller extends Caller {
  kind: 'patient';
  /** INS of the patient as a CX (`<INS>^^^&<oid>&ISO`). */
  patientId: string;
}

export type AuthenticatedCaller = ProfessionalCaller | PatientCaller;

/** The id under which an audit record and a block list name this caller. */
export function callerUserId(caller: AuthenticatedCaller): string {
  return caller.kind === 'professional' ? caller.professionalId : caller.patientId;
}

/** IdNat_PS: 8 + 11-digit RPPS, 0 + ADELI (9 characters); anything else is kept as given. */
export function professionalIdType(id: string): ProfessionalCaller['professionalIdType'] {
  if (/^8\d{11}$/.test(id)) return 'RPPS';
  if (/^0[0-9A-Z]{9}$/.test(id)) return 'ADELI';
  return 'other';
}

/** IdNat_Struct: 1 + FINESS (9), 3 + SIRET (14 digits), 4 + RPPS of a practice. */
export function organisationIdType(id: string): ProfessionalCaller['organisationIdType'] {
  if (/^1[0-9A-Z]{9}$/.test(id)) return 'FINESS';
  if (/^3\d{14}$/.test(id)) return 'SIRET';
  if (/^4\d{11}/.test(id)) return 'RPPS';
  return 'other';
}
