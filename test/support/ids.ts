import { randomInt, randomUUID } from 'node:crypto';

/** The fictitious arc every test OID lives under, with one random branch per process. */
export const TEST_OID_ARC = '1.2.250.1.999.9';
const branch = randomInt(1, 2 ** 47);
let counter = 0;

/** A fresh OID, unique within this process and most unlikely to collide with another run. */
export function newOid(): string {
  return `${TEST_OID_ARC}.${branch}.${++counter}`;
}

export const INS_NIR_OID = '1.2.250.1.213.1.4.8';

/** A fresh fictitious INS-NIR (13 random digits and their key) as `ID^^^&authority&ISO`. */
export function newPatientId(authority: string = INS_NIR_OID): string {
  const digits = String(randomInt(1, 10)) + String(randomInt(0, 1e6)).padStart(6, '0') + String(randomInt(0, 1e6)).padStart(6, '0');
  const key = 97 - Number(BigInt(digits) % 97n);
  return `${digits}${String(key).padStart(2, '0')}^^^&${authority}&ISO`;
}

export const newMessageId = (): string => `urn:uuid:${randomUUID()}`;
