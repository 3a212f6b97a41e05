import type { CdaValidator } from './cda/validate-document.js';
import type { Config } from './config.js';
import type { ContentStore } from './content/store.js';
import type { AuditTrail } from './audit/trail.js';
import type { Backpressure } from './http/backpressure.js';
import type { Logger } from './log.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { AuthenticatedCaller, ProfessionalCaller } from './policy/caller.js';
import type { SoapRequest } from './soap/envelope.js';
import type { SubmissionQueue } from './queue/submissions.js';
import type { Registry } from './registry/registry.js';

/** What a transaction needs from the running gateway. */
export interface GatewayContext {
  config: Config;
  registry: Registry;
  content: ContentStore;
  queue: SubmissionQueue;
  logger: Logger;
  /** CDA R2 validation of submitted documents (schema compiled once at start). */
  cda: CdaValidator;
  /** Refuses submissions with a Busy code when the gateway is saturated (absent: no limit). */
  backpressure?: Backpressure;
  /** Authenticates SOAP callers (SAML/VIHF); absent when AUTHENTICATION=off. */
  authenticator?: { authenticate(soapXml: string, request: SoapRequest): ProfessionalCaller };
  /** The authenticated caller of the request being served (set on the per-request copy of the context). */
  caller?: AuthenticatedCaller;
  /** ATNA audit trail of every transaction and API call. */
  audit?: AuditTrail;
  /** Prometheus metrics of this gateway (GET /metrics); `metrics.registry` is its prom-client Registry. */
  metrics?: GatewayMetrics;
  /** The policy's clock (record closing, purge, one-month visibility); tests replace it. */
  clock?: () => Date;
}
