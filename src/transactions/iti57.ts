import { randomUUID } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import { registryResponseXml } from '../ebrim/response.js';
import { validateSubmission } from '../ebrim/validate.js';
import { XdsFailure } from '../errors.js';
import { UPDATE_AVAILABILITY_STATUS } from '../registry/update.js';
import type { XmlElement } from '../xml/tree.js';
import { readRegistrySubmission, registryValidation, unavailable } from './register.js';

/**
 * ITI-57 Update Document Set (ITI TF-2b §3.57): a SubmissionSet carrying new versions of registered
 * DocumentEntries (same lid, PreviousVersion on their HasMember) and UpdateAvailabilityStatus
 * associations (Approved ↔ Deprecated). The metadata is validated like ITI-42, then the registry applies
 * it in one transaction: the previous version becomes Deprecated, nothing is stored on any failure.
 */
export async function updateDocumentSet(body: XmlElement, ctx: GatewayContext): Promise<string> {
  const read = await readRegistrySubmission(body, ctx);
  if ('response' in read) return read.response;
  const { metadata } = read;

  // Status changes are ITI-57's own association type: the ITI-42 rules validate the rest.
  const errors = validateSubmission(
    { ...metadata, associations: metadata.associations.filter((a) => a.type !== UPDATE_AVAILABILITY_STATUS) },
    registryValidation(ctx),
  );
  if (errors.some((e) => e.severity === 'Error')) return registryResponseXml(errors);

  try {
    await ctx.registry.updateDocumentSet(randomUUID(), metadata);
    return registryResponseXml(errors);
  } catch (err) {
    if (err instanceof XdsFailure) return registryResponseXml(err.errors);
    return registryResponseXml([unavailable(err, ctx)]);
  }
}
