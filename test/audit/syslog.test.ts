import { expect } from 'chai';
import { pino } from 'pino';
import { syslogFrame, SyslogTlsForwarder } from '../../src/audit/syslog.js';
import { startSyslogTlsServer, type SyslogTlsServer } from './syslog-server.js';

const logger = pino({ level: 'silent' });

describe('audit forwarding over syslog TLS (RFC 5424 / RFC 5425)', function () {
  this.timeout(20_000);
  let server: SyslogTlsServer;

  before(async () => {
    server = await startSyslogTlsServer();
  });
  after(async () => {
    await server?.close();
  });

  it('frames an RFC 5424 message by octet counting, the length in bytes of the UTF-8 message', () => {
    const frame = syslogFrame('<AuditMessage>é</AuditMessage>', { at: new Date('2026-01-02T03:04:05.000Z'), appName: 'gw', hostname: 'host1', procId: '42' });
    const space = frame.indexOf(0x20);
    const length = Number(frame.subarray(0, space).toString());
    const message = frame.subarray(space + 1);
    expect(message.length).to.equal(length);
    expect(message.toString('utf8')).to.equal('<85>1 2026-01-02T03:04:05.000Z host1 gw 42 IHE+RFC-3881 - \uFEFF<AuditMessage>é</AuditMessage>');
  });

  it('delivers messages in order to the audit repository over TLS, checking its certificate', async () => {
    const forwarder = new SyslogTlsForwarder({ url: server.url, caFile: server.caFile, logger });
    try {
      const before = server.messages.length;
      for (let i = 0; i < 5; i++) forwarder.send(syslogFrame(`<AuditMessage n="${i}"/>`, { at: new Date(), appName: 'gw' }));
      const got = await server.waitFor(before + 5);
      expect(got.slice(before).map((m) => /n="(\d)"/.exec(m.toString())![1])).to.deep.equal(['0', '1', '2', '3', '4']);
    } finally {
      forwarder.close();
    }
  });

  it('does not deliver to a repository whose certificate it does not trust', async () => {
    const forwarder = new SyslogTlsForwarder({ url: server.url, logger });
    try {
      const before = server.messages.length;
      forwarder.send(syslogFrame('<AuditMessage/>', { at: new Date(), appName: 'gw' }));
      await new Promise((r) => setTimeout(r, 500));
      expect(server.messages.length).to.equal(before);
    } finally {
      forwarder.close();
    }
  });

  it('only queues when the repository is unreachable: sending neither throws nor waits', () => {
    const forwarder = new SyslogTlsForwarder({ url: 'tls://127.0.0.1:1', logger });
    try {
      for (let i = 0; i < 1000; i++) expect(forwarder.send(syslogFrame('<AuditMessage/>', { at: new Date(), appName: 'gw' }))).to.equal(undefined);
    } finally {
      forwarder.close();
    }
  });
});
