import { AuditTrail } from '../audit/trail.js';
import { SyslogTlsForwarder } from '../audit/syslog.js';
import type { Config } from '../config.js';
import type { GatewayContext } from '../context.js';
import type { Logger } from '../log.js';
import { AssertionVerifier, loadIdentityProviderCertificates } from './saml.js';

export interface PolicyServices {
  authenticator?: AssertionVerifier;
  audit: AuditTrail;
  close(): void;
}

/** Authentication (per AUTHENTICATION) and the audit trail, with its syslog forwarder when configured. */
export async function startPolicyServices(config: Config, registry: GatewayContext['registry'], logger: Logger): Promise<PolicyServices> {
  let authenticator: AssertionVerifier | undefined;
  if (config.authentication === 'required') {
    const certs = await loadIdentityProviderCertificates(config.vihfIdpCerts);
    if (!certs.length) throw new Error('AUTHENTICATION=required needs VIHF_IDP_CERTS: the PEM certificates of the identity providers');
    authenticator = new AssertionVerifier({
      trustedCertificates: certs,
      audience: config.vihfAudience,
      clockSkewSeconds: config.vihfClockSkewSeconds,
      cacheSize: config.vihfCacheSize,
    });
  } else {
    logger.warn('AUTHENTICATION=off: SOAP requests are served without checking any SAML/VIHF assertion; never run a shared gateway like this');
  }
  const forwarder = config.auditSyslogUrl ? new SyslogTlsForwarder({ url: config.auditSyslogUrl, caFile: config.auditSyslogCaFile, logger }) : undefined;
  const audit = new AuditTrail(registry.db, { sourceId: config.auditSourceId }, logger, forwarder);
  return { authenticator, audit, close: () => forwarder?.close() };
}
