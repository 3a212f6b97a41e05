import type { GatewayContext } from '../context.js';
import { registryResponseXml } from '../ebrim/response.js';
import { validateSubmission } from '../ebrim/validate.js';
import type { XmlElement } from '../xml/tree.js';
import { checkAgainstRegistry, readRegistrySubmission, registerSubmission, registryValidation } from './register.js';

/**
 * ITI-42 Register Document Set-b (ITI TF-2b §3.42): metadata of documents another repository holds.
 * The same validation as ITI-41 without the bytes: hash, size and repositoryUniqueId come from the
 * submitter, and the repository must be one this registry knows (KNOWN_REPOSITORY_IDS). Registered
 * atomically through the same index queue, lifecycle associations included.
 */
export async function registerDocumentSet(body: XmlElement, ctx: GatewayContext): Promise<string> {
  const read = await readRegistrySubmission(body, ctx);
  if ('response' in read) return read.response;
  const { metadata } = read;

  const errors = validateSubmission(metadata, registryValidation(ctx));
  if (errors.length === 0) errors.push(...(await checkAgainstRegistry(metadata, [], ctx)));
  if (errors.some((e) => e.severity === 'Error')) return registryResponseXml(errors);

  const registered = await registerSubmission(metadata, [], ctx);
  return registryResponseXml([...errors, ...registered]);
}
