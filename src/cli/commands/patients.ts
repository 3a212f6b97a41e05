import { parseCx } from '../../ebrim/cx.js';
import { GATEWAY_OPTIONS, openClient, parseCommandArgs, printJson } from '../args.js';
import { CliError, EXIT, usageError, type ExitCode } from '../exit.js';

export const PATIENTS_USAGE = `usage: xdsgw patients create ID... [options]
Registers patients of the affinity domain (POST /api/patients). ID is ID^^^&OID&ISO, or the bare id in the
gateway's patient authority. A patient already registered is reported, not an error.
  --url URL  --ca FILE  --cert FILE --key FILE  --timeout S  --json`;

interface PatientOutcome {
  patientId: string;
  status: 'created' | 'exists' | 'refused';
  message?: string;
}

export async function patientsCommand(argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseCommandArgs('patients', argv, GATEWAY_OPTIONS);
  if (values.help) {
    console.log(PATIENTS_USAGE);
    return EXIT.ok;
  }
  const [action, ...ids] = positionals;
  if (action !== 'create') throw usageError(`patients: ${action ? `unknown action '${action}'` : 'no action given'}\n${PATIENTS_USAGE}`);
  if (ids.length === 0) throw usageError(`patients create: no patient id given\n${PATIENTS_USAGE}`);

  const client = await openClient(values);
  try {
    const authority = ids.some((id) => !id.includes('^')) ? (await client.info()).patientAuthority : undefined;
    const outcomes: PatientOutcome[] = [];
    for (const id of ids) {
      const patientId = id.includes('^') ? id : `${id}^^^&${authority}&ISO`;
      if (!parseCx(patientId)) {
        outcomes.push({ patientId, status: 'refused', message: 'not a patient id of the form ID^^^&OID&ISO' });
        continue;
      }
      const { status, body } = await client.json('POST', '/api/patients', { patientId });
      if (status === 201) outcomes.push({ patientId, status: 'created' });
      else if (status === 409) outcomes.push({ patientId, status: 'exists' });
      else if (status >= 400 && status < 500) outcomes.push({ patientId, status: 'refused', message: String(body.message ?? body.error ?? `HTTP ${status}`) });
      else throw new CliError(`POST /api/patients answered ${status}: ${String(body.message ?? body.error ?? '')}`, status === 503 ? EXIT.refused : EXIT.unexpectedAnswer);
    }
    if (values.json) printJson({ patients: outcomes });
    else {
      for (const o of outcomes) {
        const text = { created: 'created', exists: 'already registered', refused: `REFUSED: ${o.message}` }[o.status];
        console.log(`${o.patientId} ${text}`);
      }
    }
    return outcomes.some((o) => o.status === 'refused') ? EXIT.refused : EXIT.ok;
  } finally {
    await client.close();
  }
}
