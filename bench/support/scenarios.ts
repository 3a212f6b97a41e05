/**
 * The scenarios of a suite that one run measures: all of them, or those an environment variable names
 * (comma-separated), in the suite's own order. An unknown name is an error that lists the known ones.
 */
export function selectScenarios<S extends string>(variable: string, raw: string | undefined, all: readonly S[]): Set<S> {
  if (raw === undefined || !raw.trim()) return new Set(all);
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(all as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`${variable}: unknown scenario '${unknown.join("', '")}'; the scenarios are ${all.join(', ')}`);
  return new Set(all.filter((s) => names.includes(s)));
}
