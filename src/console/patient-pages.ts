import type { AccessHistoryEntry } from '../audit/trail.js';
import { input } from './forms.js';
import { html, type SafeHtml } from './html.js';
import { formatDate, type MessageKey } from './i18n.js';
import { csrfField, notice, problemSummary, type Page } from './layout.js';
import type { PatientOverview } from './patient.js';

export function patientLoginPage(page: Page, error?: MessageKey): SafeHtml {
  const { t } = page;
  return html`${problemSummary(page, error ? [{ field: 'token', text: t(error) }] : [])}
  <p>${t('patientLoginHelp')}</p>
  <form method="post" action="/console/patient/login" class="stacked" novalidate>
    ${csrfField(page)}
    ${input({ id: 'token', label: t('fieldToken'), type: 'password', required: true, error: error ? t(error) : undefined, autocomplete: 'off', spellcheck: false })}
    <button type="submit">${t('signIn')}</button>
  </form>`;
}

export function patientPage(page: Page, o: PatientOverview, message?: { text: string; kind: 'done' | 'error' }): SafeHtml {
  const { t } = page;
  if (!o.record) return html`${notice(message?.text, message?.kind)}${notice(o.refusal, 'error')}`;
  const r = o.record;
  const titles = new Map(o.documents.map((d) => [d.uniqueId, d.title || t('untitled')]));
  return html`${notice(message?.text, message?.kind)}
  <p>${t('recordStatus', { status: t(r.status === 'open' ? 'recordOpen' : 'recordClosed'), date: formatDate(page.lang, new Date(r.consentAt), false) })}</p>
  <section aria-labelledby="docs-h">
    <h2 id="docs-h">${t('myDocuments')}</h2>
    ${o.documents.length ? documents(page, o) : html`<p>${t('noResults')}</p>`}
  </section>
  <section aria-labelledby="blocked-h">
    <h2 id="blocked-h">${t('blockedTitle')}</h2>
    ${r.blockedProfessionals.length
      ? html`<ul class="blocked">${r.blockedProfessionals.map(
          (id) => html`<li><code>${id}</code>
            <form method="post" action="/console/patient/blocked-professionals" class="inline">
              ${csrfField(page)}<input type="hidden" name="professionalId" value="${id}"><input type="hidden" name="blocked" value="false">
              <button type="submit" aria-label="${t('unblockLabel', { id })}">${t('unblock')}</button>
            </form></li>`,
        )}</ul>`
      : html`<p>${t('blockedNone')}</p>`}
    <form method="post" action="/console/patient/blocked-professionals" class="stacked">
      ${csrfField(page)}<input type="hidden" name="blocked" value="true">
      ${input({ id: 'professionalId', label: t('fieldBlockId'), required: true, spellcheck: false, autocomplete: 'off' })}
      <button type="submit">${t('block')}</button>
    </form>
  </section>
  <section aria-labelledby="emergency-h">
    <h2 id="emergency-h">${t('emergencyTitle')}</h2>
    <form method="post" action="/console/patient/emergency-access" class="stacked">
      ${csrfField(page)}
      <fieldset>
        <legend>${t('emergencyLegend')}</legend>
        <div class="choice"><input type="radio" id="emergency-allowed" name="access" value="allowed"${r.emergencyAccess === 'allowed' ? html` checked` : ''}><label for="emergency-allowed">${t('emergencyAllowed')}</label></div>
        <div class="choice"><input type="radio" id="emergency-refused" name="access" value="refused"${r.emergencyAccess === 'refused' ? html` checked` : ''}><label for="emergency-refused">${t('emergencyRefused')}</label></div>
      </fieldset>
      <button type="submit">${t('save')}</button>
    </form>
  </section>
  <section aria-labelledby="history-h">
    <h2 id="history-h">${t('historyTitle')}</h2>
    ${o.history.length ? html`<ol class="timeline">${o.history.map((e) => historyItem(page, e, titles))}</ol>` : html`<p>${t('historyEmpty')}</p>`}
    ${o.ownReads ? html`<p class="hint">${t('historyOwnReads', { count: o.ownReads })}</p>` : ''}
  </section>`;
}

function documents(page: Page, o: PatientOverview): SafeHtml {
  const { t } = page;
  return html`<div class="table-wrap"><table class="documents">
    <thead><tr><th scope="col">${t('colTitle')}</th><th scope="col">${t('colRegistered')}</th><th scope="col">${t('colVisibility')}</th><th scope="col"><span class="visually-hidden">${t('mask')}</span></th></tr></thead>
    <tbody>${o.documents.map((d) => {
      const title = d.title || t('untitled');
      return html`<tr>
        <th scope="row">${title}${d.addedByPatient ? html` <span class="badge">${t('addedByMe')}</span>` : ''}</th>
        <td>${formatDate(page.lang, d.registeredAt)}</td>
        <td>${d.masked ? html`<span class="badge badge-masked">${t('masked')}</span>` : d.maskedByAuthor ? html`<span class="badge badge-masked">${t('maskedByAuthor')}</span>` : t('visible')}</td>
        <td><form method="post" action="/console/patient/masked-documents" class="inline">
          ${csrfField(page)}<input type="hidden" name="uniqueId" value="${d.uniqueId}"><input type="hidden" name="masked" value="${d.masked ? 'false' : 'true'}">
          <button type="submit" aria-label="${d.masked ? t('unmaskLabel', { title }) : t('maskLabel', { title })}">${d.masked ? t('unmask') : t('mask')}</button>
        </form></td>
      </tr>`;
    })}</tbody>
  </table></div>`;
}

/** Operation codes of the audit trail, as people read them. */
const OPERATION_NAMES: Record<string, { en: string; fr: string }> = {
  'ITI-18': { en: 'Documents searched', fr: 'Recherche de documents' },
  'ITI-43': { en: 'Documents opened', fr: 'Consultation de documents' },
  'ITI-41': { en: 'Documents added', fr: 'Ajout de documents' },
  'ITI-42': { en: 'Documents registered', fr: 'Enregistrement de documents' },
  'ITI-57': { en: 'Documents updated', fr: 'Mise à jour de documents' },
  'ITI-62': { en: 'Documents deleted', fr: 'Suppression de documents' },
  'RECORD-CREATE': { en: 'Record opened', fr: 'Ouverture du dossier' },
  'RECORD-READ': { en: 'Record settings read', fr: 'Lecture des réglages du dossier' },
  'RECORD-CLOSE': { en: 'Record closed', fr: 'Fermeture du dossier' },
  'PATIENT-SESSION': { en: 'Patient session opened', fr: 'Ouverture de session patient' },
  'PATIENT-DOCUMENT': { en: 'Document added by the patient', fr: 'Document ajouté par le patient' },
  'PATIENT-DOCUMENT-LIST': { en: 'Documents listed', fr: 'Liste des documents' },
  'ACCESS-HISTORY': { en: 'Access history read', fr: "Lecture de l'historique des accès" },
  'DOCUMENT-MASK': { en: 'Document masked', fr: 'Document masqué' },
  'DOCUMENT-UNMASK': { en: 'Document unmasked', fr: 'Document démasqué' },
  'PROFESSIONAL-BLOCK': { en: 'Professional blocked', fr: 'Professionnel bloqué' },
  'PROFESSIONAL-UNBLOCK': { en: 'Professional unblocked', fr: 'Professionnel débloqué' },
  'EMERGENCY-ACCESS': { en: 'Emergency access changed', fr: "Accès en urgence modifié" },
};

/** Documents named in one history line, at most this many (then "+N"). */
const DOCUMENTS_SHOWN = 4;

function historyItem(page: Page, e: AccessHistoryEntry, titles: Map<string, string>): SafeHtml {
  const { t } = page;
  const who =
    e.userName === 'patient'
      ? t('you')
      : e.userId === 'front-end'
        ? t('frontEnd')
        : [e.userName, e.userId && `(${e.userId})`, e.organisationId && `— ${e.organisationId}`].filter(Boolean).join(' ');
  const named = e.documentIds.slice(0, DOCUMENTS_SHOWN).map((id) => titles.get(id) ?? id);
  const more = e.documentIds.length - named.length;
  const outcome = e.outcome === 0 ? t('historyOutcomeOk') : e.outcome === 4 ? t('historyOutcomeRefused') : t('historyOutcomeFailed');
  return html`<li class="${e.breakGlass ? 'break-glass' : ''}">
    <time datetime="${e.at}">${formatDate(page.lang, new Date(e.at))}</time>
    <span class="what">${OPERATION_NAMES[e.operation]?.[page.lang] ?? e.operation}</span>
    <span class="who">${t('historyBy', { who: who || e.userId || t('unauthenticated') })}</span>
    <span class="outcome outcome-${e.outcome === 0 ? 'ok' : 'ko'}">${outcome}</span>
    ${e.breakGlass ? html`<strong class="badge badge-alert">${t('historyBreakGlass')}</strong>` : ''}
    ${named.length ? html`<span class="docs">${t('historyDocuments', { ids: named.join(', ') + (more > 0 ? ` (+${more})` : '') })}</span>` : ''}
  </li>`;
}
