import { isOid } from './values.js';

/** An HL7 CX identifier as XDS restricts it: `ID^^^&OID&ISO`, optionally followed by `^` identifier type (`NH` for the INS). */
export interface Cx {
  id: string;
  /** The assigning authority OID (CX.4.2). */
  authority: string;
  /** CX.5, e.g. `NH` as the CI-SIS requires for the INS. */
  idType?: string;
}

const ID = /^[^&^~\\|\s]+$/;
const ID_TYPE = /^[A-Za-z0-9]{1,5}$/;

/** Parses a patient id strictly (ITI TF-3 §4.2.3.1.7): any other component filled in is refused. */
export function parseCx(s: string): Cx | undefined {
  const parts = s.split('^');
  if (parts.length !== 4 && parts.length !== 5) return undefined;
  const [id, c2, c3, c4, c5] = parts as [string, string, string, string, string | undefined];
  if (!ID.test(id) || c2 !== '' || c3 !== '') return undefined;
  const authority = c4.split('&');
  if (authority.length !== 3 || authority[0] !== '' || authority[2] !== 'ISO' || !isOid(authority[1]!)) return undefined;
  if (c5 === undefined) return { id, authority: authority[1]! };
  if (!ID_TYPE.test(c5)) return undefined;
  return { id, authority: authority[1]!, idType: c5 };
}

export function formatCx(cx: Cx): string {
  return `${cx.id}^^^&${cx.authority}&ISO${cx.idType ? `^${cx.idType}` : ''}`;
}
