/**
 * XDS date-times (ITI TF-3 §4.2.3.1.5): UTC, `YYYY[MM[DD[hh[mm[ss]]]]]`. A shorter value stands for
 * the whole period it names, so comparisons go through its first and last second.
 */

const DTM = /^\d{4}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2})?)?)?)?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const num = (s: string, from: number): number => (s.charCodeAt(from) - 48) * 10 + (s.charCodeAt(from + 1) - 48);

export function isDtm(s: string): boolean {
  if (!DTM.test(s)) return false;
  const n = s.length;
  if (n >= 6) {
    const month = num(s, 4);
    if (month < 1 || month > 12) return false;
    if (n >= 8) {
      const day = num(s, 6);
      if (day < 1 || day > daysInMonth(Number(s.slice(0, 4)), month)) return false;
    }
  }
  if (n >= 10 && num(s, 8) > 23) return false;
  if (n >= 12 && num(s, 10) > 59) return false;
  if (n >= 14 && num(s, 12) > 59) return false;
  return true;
}

/** The first second of the period, as 14 digits. */
export function dtmLowerBound(s: string): string {
  return s + '00000101000000'.slice(s.length);
}

/** The last second of the period, as 14 digits. */
export function dtmUpperBound(s: string): string {
  if (s.length >= 8) return s + '00000000235959'.slice(s.length);
  const year = Number(s.slice(0, 4));
  const month = s.length >= 6 ? num(s, 4) : 12;
  const day = String(daysInMonth(year, month)).padStart(2, '0');
  return `${s.slice(0, 4)}${String(month).padStart(2, '0')}${day}235959`;
}

/** Orders two DTMs by their first second: negative, zero or positive. */
export function compareDtm(a: string, b: string): number {
  const x = dtmLowerBound(a);
  const y = dtmLowerBound(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when period `a` starts no later than period `b` ends (serviceStartTime ≤ serviceStopTime). */
export function dtmStartsBeforeEnd(a: string, b: string): boolean {
  return dtmLowerBound(a) <= dtmUpperBound(b);
}
