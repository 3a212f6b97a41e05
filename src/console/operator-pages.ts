import { input } from './forms.js';
import { html, type SafeHtml } from './html.js';
import { formatDate, type MessageKey } from './i18n.js';
import { csrfField, notice, problemSummary, type Page } from './layout.js';
import type { OperatorOverview } from './operator.js';

const OUTCOMES = ['Success', 'PartialSuccess', 'Failure', 'Fault'] as const;
const DASH = '—';

export function operatorLoginPage(page: Page, open: boolean, error?: MessageKey): SafeHtml {
  const { t } = page;
  if (!open) return notice(t('operatorClosed'), 'error');
  return html`${problemSummary(page, error ? [{ field: 'key', text: t(error) }] : [])}
  <p>${t('operatorLoginHelp')}</p>
  <form method="post" action="/console/operator/login" class="stacked" novalidate>
    ${csrfField(page)}
    ${input({ id: 'key', label: t('fieldOperatorKey'), type: 'password', required: true, error: error ? t(error) : undefined, autocomplete: 'current-password' })}
    <button type="submit">${t('signIn')}</button>
  </form>`;
}

export function operatorPage(page: Page, o: OperatorOverview, message?: { text: string; kind: 'done' | 'error' }): SafeHtml {
  const { t } = page;
  const minutes = o.uptimeSeconds / 60;
  return html`${notice(message?.text, message?.kind)}
  <p>${t('uptime', { duration: duration(o.uptimeSeconds) })}</p>
  <section aria-labelledby="throughput-h">
    <h2 id="throughput-h">${t('throughput')}</h2>
    ${o.requests
      ? html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">${t('colTransaction')}</th><th scope="col">${t('colTotal')}</th>${OUTCOMES.map((x) => html`<th scope="col">${x}</th>`)}<th scope="col">${t('colPerMinute')}</th><th scope="col">${t('colMeanLatency')}</th></tr></thead>
          <tbody>${o.requests.map(
            (r) => html`<tr><th scope="row">${r.transaction}</th><td>${r.total}</td>${OUTCOMES.map((x) => html`<td>${r.byOutcome[x] ?? 0}</td>`)}
              <td>${minutes > 0 ? (r.total / minutes).toFixed(1) : DASH}</td><td>${r.meanSeconds === undefined ? DASH : `${(r.meanSeconds * 1000).toFixed(1)} ms`}</td></tr>`,
          )}</tbody></table></div>`
      : html`<p><span aria-hidden="true">${DASH}</span> ${t('metricsMissing')}</p>`}
  </section>
  <section aria-labelledby="errors-h">
    <h2 id="errors-h">${t('errorsByCode')}</h2>
    ${!o.errors
      ? html`<p><span aria-hidden="true">${DASH}</span> ${t('metricsMissing')}</p>`
      : o.errors.length
        ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('colCode')}</th><th scope="col">${t('colTransaction')}</th><th scope="col">${t('colCount')}</th></tr></thead>
            <tbody>${o.errors.map((e) => html`<tr><th scope="row"><code>${e.code}</code></th><td>${e.transaction}</td><td>${e.count}</td></tr>`)}</tbody></table></div>`
        : html`<p>${t('errorsNone')}</p>`}
  </section>
  <section aria-labelledby="queues-h">
    <h2 id="queues-h">${t('queuesTitle')}</h2>
    ${'unavailable' in o.queues ? notice(t('queuesUnavailable', { reason: o.queues.unavailable }), 'error') : queues(page, o.queues)}
  </section>
  <section aria-labelledby="registry-h">
    <h2 id="registry-h">${t('registrySize')}</h2>
    ${'unavailable' in o.registry
      ? notice(t('registryUnavailable', { reason: o.registry.unavailable }), 'error')
      : html`<dl class="meta"><dt>${t('documentEntries')}</dt><dd>${o.registry.documentEntries}</dd><dt>${t('submissionSets')}</dt><dd>${o.registry.submissionSets}</dd><dt>${t('patients')}</dt><dd>${o.registry.patients}</dd></dl>`}
  </section>`;
}

function queues(page: Page, qs: Exclude<OperatorOverview['queues'], { unavailable: string }>): SafeHtml {
  const { t } = page;
  const states = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
  return html`<div class="table-wrap"><table>
    <thead><tr><th scope="col">${t('colQueue')}</th>${states.map((s) => html`<th scope="col">${s}</th>`)}</tr></thead>
    <tbody>${qs.map((q) => html`<tr><th scope="row">${q.name}</th>${states.map((s) => html`<td>${q.counts[s] ?? 0}</td>`)}</tr>`)}</tbody>
  </table></div>
  ${qs.map(
    (q) => html`<h3>${t('failedJobs', { queue: q.name })}</h3>
    ${q.failed.length
      ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${t('colJob')}</th><th scope="col">${t('colAttempts')}</th><th scope="col">${t('colFailedAt')}</th><th scope="col">${t('colReason')}</th><th scope="col"><span class="visually-hidden">${t('retry')}</span></th></tr></thead>
        <tbody>${q.failed.map(
          (j) => html`<tr><th scope="row"><code>${j.id}</code></th><td>${j.attemptsMade}</td><td>${j.failedAt ? formatDate(page.lang, j.failedAt) : DASH}</td><td>${j.reason}</td>
            <td><form method="post" action="/console/operator/jobs/retry" class="inline">${csrfField(page)}<input type="hidden" name="queue" value="${q.name}"><input type="hidden" name="jobId" value="${j.id}">
            <button type="submit" aria-label="${t('retryLabel', { id: j.id, queue: q.name })}">${t('retry')}</button></form></td></tr>`,
        )}</tbody></table></div>`
      : html`<p>${t('failedNone')}</p>`}`,
  )}`;
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}
