import { input, select, textarea } from './forms.js';
import { escapeHtml, html, queryString, SafeHtml } from './html.js';
import { formatDate, formatDtm, type MessageKey } from './i18n.js';
import { csrfField, notice, problemSummary, type Page } from './layout.js';
import { PURPOSES, ROLES, type FormErrors, type ProfessionalForm } from './login.js';
import type { DocumentFilters, FilterProblem, FoundDocuments, OpenedDocument } from './professional.js';
import type { DocumentSummary, ShownCode } from './reads.js';

export function proLoginFormPage(page: Page, form: Partial<ProfessionalForm>, errors: FormErrors<ProfessionalForm>): SafeHtml {
  const { t } = page;
  const err = (k: keyof ProfessionalForm): string | undefined => (errors[k] ? t(errors[k]!) : undefined);
  const problems = (Object.keys(errors) as (keyof ProfessionalForm)[]).map((f) => ({ field: f, text: `${fieldLabel(page, f)} : ${t(errors[f]!)}` }));
  return html`${problemSummary(page, problems)}
  <p class="notice warning">${t('proLoginTestPlatform')}</p>
  <form method="post" action="/console/pro/login" class="stacked" novalidate>
    ${csrfField(page)}
    ${input({ id: 'name', label: t('fieldName'), value: form.name, required: true, error: err('name'), autocomplete: 'name' })}
    ${input({ id: 'professionalId', label: t('fieldProfessionalId'), value: form.professionalId, required: true, error: err('professionalId'), spellcheck: false })}
    ${select({ id: 'role', label: t('fieldRole'), value: form.role ?? '10', required: true, error: err('role'), options: ROLES.map((r) => ({ value: r.code, label: t(r.label) })) })}
    ${input({ id: 'organisationId', label: t('fieldOrganisationId'), value: form.organisationId, required: true, error: err('organisationId'), spellcheck: false })}
    ${input({ id: 'organisationName', label: t('fieldOrganisationName'), value: form.organisationName, autocomplete: 'organization' })}
    ${select({ id: 'purpose', label: t('fieldPurpose'), value: form.purpose ?? 'normal', error: err('purpose'), options: PURPOSES.map((p) => ({ value: p.value, label: t(p.label) })) })}
    <button type="submit">${t('signIn')}</button>
  </form>`;
}

function fieldLabel(page: Page, f: keyof ProfessionalForm): string {
  const keys: Record<keyof ProfessionalForm, MessageKey> = {
    name: 'fieldName',
    professionalId: 'fieldProfessionalId',
    role: 'fieldRole',
    organisationId: 'fieldOrganisationId',
    organisationName: 'fieldOrganisationName',
    purpose: 'fieldPurpose',
  };
  return page.t(keys[f]);
}

export function proLoginAssertionPage(page: Page, error?: string): SafeHtml {
  const { t } = page;
  return html`${problemSummary(page, error ? [{ field: 'assertion', text: t('errAssertion', { reason: error }) }] : [])}
  <p>${t('proLoginVihf')}</p>
  <form method="post" action="/console/pro/login" class="stacked" novalidate>
    ${csrfField(page)}
    ${textarea({ id: 'assertion', label: t('fieldAssertion'), required: true, rows: 10, error: error ? t('errAssertion', { reason: error }) : undefined })}
    <button type="submit">${t('signIn')}</button>
  </form>`;
}

const codeOptions = (page: Page, codes: ShownCode[], selected: string | undefined) => [
  { value: '', label: page.t('anyValue') },
  ...codes.map((c) => ({ value: `${c.code}^^${c.scheme}`, label: c.display ? `${c.display} (${c.code})` : c.code })),
  // A selected code no visible document has any more stays selectable.
  ...(selected && !codes.some((c) => `${c.code}^^${c.scheme}` === selected) ? [{ value: selected, label: selected }] : []),
];

export function searchPage(
  page: Page,
  authority: string,
  values: Record<string, string | undefined>,
  outcome: { problems: FilterProblem[] } | { filters: DocumentFilters; found: FoundDocuments } | undefined,
): SafeHtml {
  const { t } = page;
  const problems = outcome && 'problems' in outcome ? outcome.problems : [];
  const err = (field: FilterProblem['field']): string | undefined => {
    const p = problems.find((x) => x.field === field);
    return p ? t(p.message, { authority }) : undefined;
  };
  const found = outcome && 'found' in outcome ? outcome.found : undefined;
  const statusOptions = [
    { value: 'approved', label: t('statusApproved') },
    { value: 'deprecated', label: t('statusDeprecated') },
    { value: 'all', label: t('statusAll') },
  ];
  return html`${problemSummary(page, problems.map((p) => ({ field: p.field, text: t(p.message, { authority }) })))}
  <form method="get" action="/console/pro" class="search" role="search">
    ${input({ id: 'patientId', label: t('fieldPatientId', { authority }), value: values.patientId, required: true, error: err('patientId'), spellcheck: false })}
    <div class="filters">
      ${select({ id: 'classCode', label: t('fieldClassCode'), value: values.classCode, error: err('classCode'), options: codeOptions(page, found?.classCodes ?? [], values.classCode) })}
      ${select({ id: 'typeCode', label: t('fieldTypeCode'), value: values.typeCode, error: err('typeCode'), options: codeOptions(page, found?.typeCodes ?? [], values.typeCode) })}
      ${input({ id: 'from', label: t('fieldFrom'), type: 'date', value: values.from, error: err('from') })}
      ${input({ id: 'to', label: t('fieldTo'), type: 'date', value: values.to, error: err('to') })}
      ${select({ id: 'status', label: t('fieldStatus'), value: values.status ?? 'approved', error: err('status'), options: statusOptions })}
    </div>
    <button type="submit">${t('search')}</button>
  </form>
  ${found ? results(page, found) : ''}`;
}

function results(page: Page, found: FoundDocuments): SafeHtml {
  const { t } = page;
  if (found.refusal) return html`<section aria-labelledby="results-h"><h2 id="results-h">${t('refused')}</h2>${notice(found.refusal.message, 'error')}</section>`;
  const errors = found.errors.filter((e) => e.severity === 'Error');
  if (errors.length) {
    return html`<section aria-labelledby="results-h"><h2 id="results-h">${t('resultsTitle')}</h2>
      <div class="notice error" role="alert"><p>${t('queryErrors')}</p><ul>${errors.map((e) => html`<li><code>${e.code}</code> ${e.message}</li>`)}</ul></div></section>`;
  }
  if (found.tooMany) {
    return html`<section aria-labelledby="results-h"><h2 id="results-h">${t('resultsTitle')}</h2>${notice(t('tooMany', { count: found.tooMany }), 'error')}</section>`;
  }
  return html`<section aria-labelledby="results-h">
    <h2 id="results-h">${t('resultsTitle')}</h2>
    <p role="status">${t('resultsCount', { count: found.documents.length })}</p>
    ${found.documents.length ? documentTable(page, found.documents) : html`<p>${t('noResults')}</p>`}
  </section>`;
}

function documentTable(page: Page, documents: DocumentSummary[]): SafeHtml {
  const { t } = page;
  return html`<div class="table-wrap"><table class="documents">
    <thead><tr><th scope="col">${t('colTitle')}</th><th scope="col">${t('colType')}</th><th scope="col">${t('colClass')}</th><th scope="col">${t('colCreated')}</th><th scope="col">${t('colStatus')}</th><th scope="col">${t('colConfidentiality')}</th></tr></thead>
    <tbody>${documents.map(
      (d) => html`<tr>
        <th scope="row"><a href="/console/pro/documents/${encodeURIComponent(d.uniqueId)}">${d.title || t('untitled')}</a></th>
        <td>${codeText(d.typeCode)}</td>
        <td>${codeText(d.classCode)}</td>
        <td>${formatDtm(page.lang, d.creationTime)}</td>
        <td>${statusText(page, d.status)}</td>
        <td>${d.confidentiality.map((c) => codeText(c)).join(', ')}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

const codeText = (c: ShownCode | undefined): string => (c ? (c.display ? `${c.display} (${c.code})` : c.code) : '');
const statusText = (page: Page, s: DocumentSummary['status']): string =>
  page.t(s === 'approved' ? 'statusApproved' : s === 'deprecated' ? 'statusDeprecated' : 'statusOther');

/** XCN person: id^family^given... as "given FAMILY (id)". */
function personText(xcn: string | null): string {
  if (!xcn) return '';
  const [id, family, given] = xcn.split('^');
  const name = [given, family].filter(Boolean).join(' ');
  return name ? `${name}${id ? ` (${id})` : ''}` : (id ?? '');
}

export function documentNotFoundPage(page: Page, uniqueId: string): SafeHtml {
  return html`<p>${page.t('documentNotFoundText', { uniqueId })}</p><p><a href="/console/pro">${page.t('proSearchTitle')}</a></p>`;
}

export function documentRefusedPage(page: Page, message: string): SafeHtml {
  return html`${notice(message, 'error')}<p><a href="/console/pro">${page.t('proSearchTitle')}</a></p>`;
}

export function documentPage(page: Page, doc: OpenedDocument & { status: 'ok' }): SafeHtml {
  const { t } = page;
  const d = doc.summary;
  return html`<p><a href="/console/pro${queryString({ patientId: d.patientId, status: 'all' })}">${t('backToSearch')}</a></p>
  <section aria-labelledby="meta-h">
    <h2 id="meta-h">${t('metadata')}</h2>
    <dl class="meta">
      <dt>${t('uniqueId')}</dt><dd><code>${d.uniqueId}</code></dd>
      <dt>${t('patientId')}</dt><dd><code>${d.patientId}</code></dd>
      <dt>${t('colType')}</dt><dd>${codeText(d.typeCode)}</dd>
      <dt>${t('colClass')}</dt><dd>${codeText(d.classCode)}</dd>
      <dt>${t('colCreated')}</dt><dd>${formatDtm(page.lang, d.creationTime)}</dd>
      <dt>${t('colStatus')}</dt><dd>${statusText(page, d.status)}</dd>
      <dt>${t('colConfidentiality')}</dt><dd>${d.confidentiality.map((c) => codeText(c)).join(', ')}</dd>
      <dt>${t('colAuthor')}</dt><dd>${d.authors.map((a) => personText(a.person)).filter(Boolean).join(', ')}</dd>
      <dt>${t('mimeType')}</dt><dd><code>${d.mimeType}</code></dd>
      <dt>${t('version')}</dt><dd>${d.version}</dd>
    </dl>
  </section>
  <section aria-labelledby="sig-h">
    <h2 id="sig-h">${t('signature')}</h2>
    ${signature(page, doc.signatures)}
  </section>
  <section aria-labelledby="hist-h">
    <h2 id="hist-h">${t('history')}</h2>
    ${history(page, doc)}
  </section>
  <section aria-labelledby="content-h" class="document-content">
    <h2 id="content-h">${t('content')}</h2>
    ${content(page, doc)}
  </section>`;
}

function signature(page: Page, s: (OpenedDocument & { status: 'ok' })['signatures']): SafeHtml {
  const { t } = page;
  if ('unavailable' in s) return html`<p class="sig sig-unknown">${t('signatureUnavailable')}</p>`;
  if (!s.signed) return html`<p class="sig sig-none">${t('signatureNone', { reason: s.reason ?? '' })}</p>`;
  const signers = s.signatures.map((v) =>
    v.signer ? html`<li>${t('signedBy', { subject: v.signer.subject, issuer: v.signer.issuer, time: v.signingTime ? formatDate(page.lang, new Date(v.signingTime)) : '—' })}${v.valid ? '' : html` — ${v.reason ?? ''}`}</li>` : html`<li>${v.reason ?? ''}</li>`,
  );
  return html`<p class="sig ${s.valid ? 'sig-valid' : 'sig-invalid'}">${s.valid ? t('signatureValid') : t('signatureInvalid', { reason: s.reason ?? '' })}</p><ul>${signers}</ul>`;
}

function history(page: Page, doc: OpenedDocument & { status: 'ok' }): SafeHtml {
  const { t } = page;
  const { chain, documents } = doc.history;
  if (!chain.length) return html`<p>${t('historyNone')}</p>`;
  const name = (entryUuid: string): SafeHtml => {
    if (entryUuid === doc.summary.entryUuid) return html`<strong>${t('thisDocument')}</strong>`;
    const d = documents.get(entryUuid);
    if (!d) return html`<em>${t('historyHidden')}</em>`;
    return html`<a href="/console/pro/documents/${encodeURIComponent(d.uniqueId)}">${d.title || t('untitled')}</a> (${formatDtm(page.lang, d.creationTime)}, ${statusText(page, d.status)})`;
  };
  return html`<ol class="history">${chain.map((c) => html`<li>${sentence(t('historyReplacedBy', { replaced: MARK.replaced, by: MARK.by, type: c.type }), { [MARK.replaced]: name(c.replaced), [MARK.by]: name(c.by) })}</li>`)}</ol>`;
}

const MARK = { replaced: '\u0000replaced\u0000', by: '\u0000by\u0000' } as const;

/** A translated sentence, escaped, with HTML fragments in place of its markers. */
function sentence(text: string, parts: Record<string, SafeHtml>): SafeHtml {
  let out = escapeHtml(text);
  for (const [marker, part] of Object.entries(parts)) out = out.split(marker).join(part.value);
  return new SafeHtml(out);
}

function content(page: Page, doc: OpenedDocument & { status: 'ok' }): SafeHtml {
  const { t } = page;
  if (doc.notRendered?.reason === 'not-cda') return html`<p>${t('notCda', { mimeType: doc.summary.mimeType })}</p>`;
  if (doc.notRendered?.reason === 'malformed') return html`<p>${t('malformedCda', { detail: doc.notRendered.detail })}</p>`;
  const n = doc.narrative!;
  if (n.nonXmlBody) return html`<p>${t('nonXmlBody')}</p>`;
  if (!n.body.value) return html`<p>${t('emptyNarrative')}</p>`;
  return html`<article class="cda">${n.title ? html`<p class="cda-title">${n.title}</p>` : ''}${n.body}</article>`;
}
