import { expect } from 'chai';
import { consumerConnection, producerConnection } from '../../src/queue/connection.js';

describe('Redis connections', () => {
  it('listen for errors themselves, so that an outage prints no "Unhandled error event" even for a connection BullMQ only duplicates', async () => {
    // Nothing listens on port 1: both connections fail and keep retrying.
    for (const connection of [producerConnection('redis://127.0.0.1:1'), consumerConnection('redis://127.0.0.1:1')]) {
      const written: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void written.push(args.join(' '));
      try {
        await new Promise((r) => connection.once('error', r));
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        console.error = original;
        connection.disconnect();
      }
      expect(written.filter((w) => w.includes('Unhandled error event'))).to.deep.equal([]);
    }
  });
});
