/** A Content-Type value: `type/subtype` in lower case and its parameters by lower-case name. */
export interface MediaType {
  type: string;
  params: Map<string, string>;
}

/**
 * Reads a Content-Type header value (RFC 9110 §8.3.1): parameter values are tokens or quoted
 * strings with backslash escapes; the first occurrence of a parameter wins.
 */
export function parseMediaType(value: string): MediaType {
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  let i = semi === -1 ? value.length : semi + 1;
  while (i < value.length) {
    const eq = value.indexOf('=', i);
    if (eq === -1) break;
    const sep = value.indexOf(';', i);
    if (sep !== -1 && sep < eq) {
      i = sep + 1;
      continue;
    }
    const name = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (value[j] === ' ' || value[j] === '\t') j++;
    let v = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      const next = value.indexOf(';', j);
      i = next === -1 ? value.length : next + 1;
    } else {
      const next = value.indexOf(';', j);
      v = value.slice(j, next === -1 ? value.length : next).trim();
      i = next === -1 ? value.length : next + 1;
    }
    if (name && !params.has(name)) params.set(name, v);
  }
  return { type, params };
}
