import { expect } from 'chai';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startPolicyServices } from '../../src/policy/services.js';
import type { Registry } from '../../src/registry/registry.js';

describe('policy and audit settings', () => {
  it('requires authentication unless it is explicitly turned off', () => {
    expect(loadConfig({}).authentication).to.equal('required');
    expect(loadConfig({ AUTHENTICATION: 'off' }).authentication).to.equal('off');
    expect(() => loadConfig({ AUTHENTICATION: 'maybe' })).to.throw(ConfigError, 'AUTHENTICATION');
  });

  it('reads the identity providers, audience, skew and retention', () => {
    const c = loadConfig({ VIHF_IDP_CERTS: '/etc/idp/a.pem, /etc/idp/dir', VIHF_AUDIENCE: 'urn:gw', VIHF_CLOCK_SKEW_SECONDS: '30', RECORD_RETENTION_YEARS: '20' });
    expect(c.vihfIdpCerts).to.deep.equal(['/etc/idp/a.pem', '/etc/idp/dir']);
    expect(c).to.include({ vihfAudience: 'urn:gw', vihfClockSkewSeconds: 30, recordRetentionYears: 20 });
    expect(loadConfig({}).recordRetentionYears).to.equal(10);
  });

  it('refuses a malformed audit repository URL and short secrets', () => {
    expect(() => loadConfig({ AUDIT_SYSLOG_URL: 'udp://host:514' })).to.throw(ConfigError, 'AUDIT_SYSLOG_URL');
    expect(loadConfig({ AUDIT_SYSLOG_URL: 'tls://audit.example:6514' }).auditSyslogUrl).to.equal('tls://audit.example:6514');
    expect(() => loadConfig({ PATIENT_TOKEN_SECRET: 'short' })).to.throw(ConfigError, 'PATIENT_TOKEN_SECRET');
    expect(() => loadConfig({ FRONT_END_KEY: 'short' })).to.throw(ConfigError, 'FRONT_END_KEY');
  });
});

describe('policy services at start-up', () => {
  const registry = { db: {} } as unknown as Registry;

  it('refuses to start with authentication required and no identity provider certificate', async () => {
    const error = await startPolicyServices(loadConfig({}), registry, pino({ level: 'silent' })).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.match(/VIHF_IDP_CERTS/);
  });

  it('logs a warning when authentication is off', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const services = await startPolicyServices(loadConfig({ AUTHENTICATION: 'off' }), registry, logger);
    services.close();
    expect(services.authenticator).to.equal(undefined);
    expect(lines.join('')).to.match(/AUTHENTICATION=off/);
  });
});
