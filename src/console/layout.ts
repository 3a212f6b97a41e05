import { html, type SafeHtml } from './html.js';
import { LANGUAGES, type Lang, type Translate } from './i18n.js';
import type { ConsoleSession } from './session.js';

/** What every page needs: language, messages, the CSRF token of the forms, who is signed in, where we are. */
export interface Page {
  lang: Lang;
  t: Translate;
  csrf: string;
  session?: ConsoleSession;
  /** The URL the language switch reloads (a GET page). */
  here: string;
}

export type Section = 'home' | 'pro' | 'patient' | 'operator';

const LANGUAGE_NAMES: Record<Lang, string> = { fr: 'Français', en: 'English' };

/** A hidden field carrying the CSRF token: every POST form has one. */
export const csrfField = (page: Page): SafeHtml => html`<input type="hidden" name="_csrf" value="${page.csrf}">`;

/** The whole document: skip link, navigation, language switch, sign-out, then the page's own content under one h1. */
export function layout(page: Page, opts: { title: string; section: Section; body: SafeHtml }): string {
  const { t } = page;
  const nav: [Section, string, string][] = [
    ['home', '/console/', t('home')],
    ['pro', '/console/pro', t('professionalView')],
    ['patient', '/console/patient', t('patientView')],
    ['operator', '/console/operator', t('operatorView')],
  ];
  return (
    '<!DOCTYPE html>\n' +
    html`<html lang="${page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} — ${t('appName')}</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
<a class="skip-link" href="#main">${t('skipToContent')}</a>
<header class="site-header">
  <p class="app-name">${t('appName')}</p>
  <nav aria-label="${t('mainNav')}">
    <ul>${nav.map(([id, href, label]) => html`<li><a href="${href}"${id === opts.section ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul>
  </nav>
  <nav aria-label="${t('languageNav')}" class="lang-switch">
    <ul>${LANGUAGES.map((l) => html`<li><a href="${withLang(page.here, l)}" lang="${l}" hreflang="${l}"${l === page.lang ? html` aria-current="true"` : ''}>${LANGUAGE_NAMES[l]}</a></li>`)}</ul>
  </nav>
  ${page.session ? signedIn(page, page.session) : ''}
</header>
<main id="main" tabindex="-1">
<h1>${opts.title}</h1>
${opts.body}
</main>
</body>
</html>
`.value
  );
}

function signedIn(page: Page, session: ConsoleSession): SafeHtml {
  const who =
    session.kind === 'professional'
      ? `${session.caller.name ?? session.caller.professionalId} (${session.caller.professionalId})`
      : session.kind === 'patient'
        ? session.patientId
        : page.t('operatorView');
  return html`<form method="post" action="/console/logout" class="sign-out">
    <span>${page.t('signedInAs', { who })}</span>
    ${csrfField(page)}
    <button type="submit">${page.t('signOut')}</button>
  </form>`;
}

/** The same page in another language. */
function withLang(here: string, lang: Lang): string {
  const url = new URL(here, 'http://console.invalid');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

/** A list of the form's problems, each linking to its field, announced to screen readers. */
export function problemSummary(page: Page, problems: { field: string; text: string }[]): SafeHtml {
  if (!problems.length) return html``;
  return html`<div class="problems" role="alert" tabindex="-1" id="problems">
    <p>${page.t('errFormHasProblems', { count: problems.length })}</p>
    <ul>${problems.map((p) => html`<li><a href="#${p.field}">${p.text}</a></li>`)}</ul>
  </div>`;
}

/** A message after an action (role=status) or a refusal (role=alert). */
export function notice(text: string | undefined, kind: 'done' | 'error' = 'done'): SafeHtml {
  if (!text) return html``;
  return kind === 'done' ? html`<p class="notice done" role="status">${text}</p>` : html`<p class="notice error" role="alert">${text}</p>`;
}
