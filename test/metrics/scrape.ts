import { expect } from 'chai';
import { request } from 'undici';
import { parseExposition, type Exposition } from './exposition.js';

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; text: string }> {
  const res = await request(`${url}/metrics`, { headers });
  return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: await res.body.text() };
}

export async function metricsOf(url: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const got = await scrape(url, headers);
  expect(got.status, got.text).to.equal(200);
  expect(got.contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(got.text);
}

/** Polls a condition that becomes true asynchronously (a worker's own 'completed' event); fails after a generous bound. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
