import type { GatewayContext } from '../context.js';
import { parseRegisterDocumentSet } from '../ebrim/parse.js';
import { registryResponseXml } from '../ebrim/response.js';
import { validateSubmission } from '../ebrim/validate.js';
import { submissionRefusal } from '../policy/enforce.js';
import type { XmlElement } from '../xml/tree.js';
import { checkAgainstRegistry, registerSubmission, unavailable } from './register.js';

/**
 * ITI-42 Register Document Set-b (ITI TF-2b §3.42): metadata of documents another repository holds.
 * The same validation as ITI-41 without the bytes: hash, size and repositoryUniqueId come from the
 * submitter, and the repository must be one this registry knows (KNOWN_REPOSITORY_IDS). Registered
 * atomically through the same index queue, lifecycle associations included.
 */
export async function registerDocumentSet(body: XmlElement, ctx: GatewayContext): Promise<string> {
  const parsed = parseRegisterDocumentSet(body);
  if (!parsed.metadata || parsed.errors.length) return registryResponseXml(parsed.errors);
  const { metadata } = parsed;
  const refusal = await submissionRefusal(ctx, metadata).catch((err: unknown) => unavailable(err, ctx));
  if (refusal) return registryResponseXml([refusal]);

  const errors = validateSubmission(metadata, {
    documents: undefined,
    repositoryUniqueId: ctx.config.repositoryUniqueId,
    patientAuthority: ctx.config.patientAuthority,
    knownRepositoryIds: ctx.config.knownRepositoryIds,
  });
  if (errors.length === 0) errors.push(...(await checkAgainstRegistry(metadata, [], ctx)));
  if (errors.some((e) => e.severity === 'Error')) return registryResponseXml(errors);

  const registered = await registerSubmission(metadata, [], ctx);
  return registryResponseXml([...errors, ...registered]);
}
