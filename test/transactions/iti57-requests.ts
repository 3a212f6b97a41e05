import { createHash, randomUUID } from 'node:crypto';
import { NS, SOAP_ACTION } from '../../src/ebrim/uuids.js';
import { escapeXml } from '../../src/xml/tree.js';
import type { TestGateway } from '../support/gateway.js';
import { buildSubmitObjects, DEFAULT_BASE_URL, newMessageId, soapContentType, soapEnvelope, type AssociationSpec, type BuiltRequest, type DocSpec } from '../support/requests.js';

export const UPDATE_AVAILABILITY_STATUS = 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus';

/** The registry's entryUUIDs of a document (latest version) and of the HasMember that submitted it. */
export async function registeredIds(gw: TestGateway, uniqueId: string): Promise<{ entryUuid: string; logicalId: string; version: number; membership: string }> {
  const [doc] = await gw.backends.db.query<{ entry_uuid: string; logical_id: string; version: number }>(
    'select entry_uuid, logical_id, version from document_entries where unique_id = $1 order by version desc limit 1',
    [uniqueId],
  );
  if (!doc) throw new Error(`document ${uniqueId} is not registered`);
  const [membership] = await gw.backends.db.query<{ entry_uuid: string }>(
    'select a.entry_uuid from associations a join submission_sets s on s.entry_uuid = a.source_uuid where a.target_uuid = $1',
    [doc.entry_uuid],
  );
  return { entryUuid: doc.entry_uuid, logicalId: doc.logical_id, version: doc.version, membership: membership!.entry_uuid };
}

export interface UpdateSpec {
  patientId: string;
  /** New versions: the document as registered (same bytes and uniqueId), its logicalId and the version it replaces. */
  versions?: { doc: DocSpec & { uniqueId: string }; logicalId: string; previousVersion: string }[];
  statusChanges?: { target: string; from: string; to: string }[];
  repositoryUniqueId: string;
}

/** ITI-57 Update Document Set: the SubmissionSet, new DocumentEntry versions (lid, PreviousVersion) and UpdateAvailabilityStatus associations. */
export function buildIti57Request(spec: UpdateSpec): BuiltRequest {
  const versions = spec.versions ?? [];
  const documents = versions.map((v, i) => ({
    ...v.doc,
    id: `urn:uuid:${randomUUID()}`,
    hash: createHash('sha1').update(v.doc.bytes).digest('hex'),
    size: v.doc.bytes.length,
    repositoryUniqueId: spec.repositoryUniqueId,
    title: v.doc.title ?? `Version mise à jour ${i + 1}`,
  }));
  const associations: AssociationSpec[] = (spec.statusChanges ?? []).map((c) => ({
    type: UPDATE_AVAILABILITY_STATUS,
    source: 'SubmissionSet01',
    target: c.target,
    slots: [
      { name: 'OriginalStatus', values: [c.from] },
      { name: 'NewStatus', values: [c.to] },
    ],
  }));
  let { xml } = buildSubmitObjects({
    patientId: spec.patientId,
    documents,
    associations,
    author: { institutions: ['CHU de Test^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1234567890'] },
  });
  documents.forEach((d, i) => {
    const v = versions[i]!;
    xml = xml.replace(`<rim:ExtrinsicObject id="${d.id}"`, `<rim:ExtrinsicObject id="${d.id}" lid="${escapeXml(v.logicalId)}"`);
    const hasMember = new RegExp(`(<rim:Association [^>]*targetObject="${d.id}"[^>]*>)`);
    xml = xml.replace(hasMember, `$1<rim:Slot name="PreviousVersion"><rim:ValueList><rim:Value>${escapeXml(v.previousVersion)}</rim:Value></rim:ValueList></rim:Slot>`);
  });
  const messageId = newMessageId();
  const envelope = soapEnvelope(SOAP_ACTION.iti57, xml, { messageId, to: `${DEFAULT_BASE_URL}/xds/iti57` });
  return { contentType: soapContentType(SOAP_ACTION.iti57), body: Buffer.from(envelope, 'utf8'), messageId };
}

/** ITI-62 Delete Document Set: an lcm:RemoveObjectsRequest naming these objects. */
export function buildIti62Request(objectRefs: string[], opts: { bodyXml?: string } = {}): BuiltRequest {
  const refs = objectRefs.map((id) => `<rim:ObjectRef id="${escapeXml(id)}"/>`).join('');
  const body = opts.bodyXml ?? `<lcm:RemoveObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:ObjectRefList>${refs}</rim:ObjectRefList></lcm:RemoveObjectsRequest>`;
  const messageId = newMessageId();
  const envelope = soapEnvelope(SOAP_ACTION.iti62, body, { messageId, to: `${DEFAULT_BASE_URL}/xds/iti62` });
  return { contentType: soapContentType(SOAP_ACTION.iti62), body: Buffer.from(envelope, 'utf8'), messageId };
}
