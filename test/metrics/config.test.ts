import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('metrics settings', () => {
  it('leaves /metrics open and the worker without an endpoint by default', () => {
    const config = loadConfig({});
    expect(config.metricsToken).to.equal(undefined);
    expect(config.metricsPort).to.equal(undefined);
  });

  it('reads METRICS_TOKEN and METRICS_PORT', () => {
    const config = loadConfig({ METRICS_TOKEN: 'abcdefghijklmnop', METRICS_PORT: '9464' });
    expect(config.metricsToken).to.equal('abcdefghijklmnop');
    expect(config.metricsPort).to.equal(9464);
  });

  it('refuses a METRICS_TOKEN that is short or holds spaces, and a METRICS_PORT that is not a port', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).to.throw(ConfigError, /METRICS_TOKEN must be at least 16 printable characters/);
    expect(() => loadConfig({ METRICS_TOKEN: 'abcdefgh ijklmnopq' })).to.throw(ConfigError, /METRICS_TOKEN/);
    expect(() => loadConfig({ METRICS_PORT: 'http' })).to.throw(ConfigError, /METRICS_PORT must be an integer/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).to.throw(ConfigError, /METRICS_PORT must be a port number/);
  });
});
