import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DMP_CODES, makeLabResult } from '../support/requests.js';
import { OPERATOR_KEY, PERMISSIVE_CDA_SCHEMA_DIR, seedFailedIndexJob, startConsoleGateway, type ConsoleGateway } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));
const DR = { name: 'Dr Lucie TEST', professionalId: '810009876543', organisationId: '1999000099', organisationName: 'Cabinet médical des Essais (fictif)' };
const enc = encodeURIComponent;

/** A lab report whose narrative carries what a hostile author would put there: script, event attributes, javascript: links. */
function hostileLabResult(patientId: string): Buffer {
  const doc = makeLabResult(patientId).toString('utf8');
  const hostile =
    `<text><paragraph>Avant <script>window.__xss = 1; alert('script')</script>` +
    `<content styleCode="Bold" onerror="alert('onerror')" onmouseover="alert('over')">texte en gras</content> ` +
    `<linkHtml href="javascript:alert('js')">lien javascript</linkHtml> <linkHtml href=" JAVASCRIPT:alert('js2')">lien javascript 2</linkHtml> ` +
    `<linkHtml href="https://example.org/resultats">lien sûr</linkHtml> &lt;img src=x onerror=alert('texte')&gt;</paragraph>` +
    `<img src="x" onerror="alert('img')"/><iframe src="javascript:alert('iframe')"></iframe><style>main { display: none }</style>`;
  return Buffer.from(
    doc
      .replace('<text>', hostile)
      .replace("<title>Compte rendu d'examens de biologie médicale</title>", "<title>Compte rendu &lt;img src=x onerror=alert('titre')&gt; piégé</title>"),
  );
}

describe('console in a real browser (chromium, playwright-core)', function () {
  this.timeout(90_000);
  let cg: ConsoleGateway;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let patientId: string;
  let replaced: string;
  let current: string;
  let hostile: string;
  const dialogs: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`    skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
      this.skip();
    }
    cg = await startConsoleGateway({ CDA_SCHEMA_DIR: PERMISSIVE_CDA_SCHEMA_DIR });
    patientId = await cg.openRecord();
    replaced = (await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Bilan sanguin de janvier' }] }))[0]!;
    current = await cg.replace(patientId, replaced, { title: 'Bilan sanguin de janvier (corrigé)' });
    await cg.submit({ patientId, documents: [{ bytes: makeLabResult(patientId), title: 'Sérologie (masquée aux professionnels)', confidentiality: [DMP_CODES.normal, DMP_CODES.masquePs] }] });
    hostile = (await cg.submit({ patientId, documents: [{ bytes: hostileLabResult(patientId) }] }))[0]!;
    await mkdir(SCREENSHOTS, { recursive: true });
    profileDir = await mkdtemp(path.join(os.tmpdir(), 'xdsgw-console-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true, locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  after(async () => {
    await context?.close();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
    await cg?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const main = () => page.locator('main');

  it('opens in French (the browser language), switches to English and back, with the lang attribute', async () => {
    await page.goto(`${cg.url}/console/`);
    expect(await page.getAttribute('html', 'lang')).to.equal('fr');
    expect(await page.locator('h1').innerText()).to.equal('Console web de la passerelle XDS');
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.getAttribute('html', 'lang')).to.equal('en');
    expect(await page.locator('h1').innerText()).to.equal('Web console of the XDS gateway');
    await shot('home');
    await page.getByRole('link', { name: 'Français' }).click();
    expect(await page.getAttribute('html', 'lang')).to.equal('fr');
  });

  it('lets a professional sign in with the keyboard only, focus visible at every step', async () => {
    await page.goto(`${cg.url}/console/pro/login`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal('skip-link');
    await page.keyboard.press('Enter');
    const typed: [string, string][] = [
      ['name', DR.name],
      ['professionalId', DR.professionalId],
    ];
    for (const [id, value] of typed) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).to.equal(id);
      await page.keyboard.type(value);
    }
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('role');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('organisationId');
    await page.keyboard.type(DR.organisationId);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DR.organisationName);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('purpose');
    await page.keyboard.press('Tab');
    const button = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, text: el.textContent, outline: style.outlineStyle, width: style.outlineWidth };
    });
    expect(button).to.include({ tag: 'BUTTON', text: 'Se connecter', outline: 'solid', width: '3px' });
    await shot('professional-login');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${cg.url}/console/pro`);
    expect(await page.locator('header').innerText()).to.include(`Connecté : ${DR.name} (${DR.professionalId})`);
  });

  it("finds the patient's documents with filters; the document masked from professionals is not listed", async () => {
    await page.getByLabel('Identifiant du patient').fill(patientId);
    await page.getByLabel('Statut').selectOption('all');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.waitForSelector('#results-h');
    const rows = page.locator('table.documents tbody tr');
    const titles = await rows.locator('th').allInnerTexts();
    expect(titles).to.include.members(['Bilan sanguin de janvier', 'Bilan sanguin de janvier (corrigé)', "Compte rendu <img src=x onerror=alert('titre')> piégé"]);
    expect(titles.join('|')).not.to.include('Sérologie');
    expect(await main().innerText()).to.include('Remplacé (obsolète)').and.include('En vigueur (approuvé)');
    await shot('professional-search');
    await page.getByLabel('Statut').selectOption('deprecated');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    expect(await page.locator('table.documents tbody th').allInnerTexts()).to.deep.equal(['Bilan sanguin de janvier']);
  });

  it('opens a document: narrative, signature status and history of replacements', async () => {
    await page.goto(`${cg.url}/console/pro/documents/${enc(current)}`);
    expect(await page.locator('h1').innerText()).to.equal('Bilan sanguin de janvier (corrigé)');
    expect(await page.locator('.sig').innerText()).to.equal('Signé, et la signature est vérifiée.');
    expect(await page.locator('ol.history').innerText()).to.include('Bilan sanguin de janvier').and.include('a été remplacé par ce document (RPLC)');
    expect(await page.locator('article.cda h3').first().innerText()).to.equal('HÉMATOLOGIE');
    expect(await page.locator('article.cda table').count()).to.be.greaterThan(1);
    await shot('professional-document');
    await page.locator('ol.history a').click();
    expect(await page.locator('h1').innerText()).to.equal('Bilan sanguin de janvier');
  });

  it('renders a narrative with <script>, event attributes and javascript: links inert', async () => {
    await page.goto(`${cg.url}/console/pro/documents/${enc(hostile)}`);
    const article = page.locator('article.cda');
    expect(await article.innerText()).to.include('Avant').and.include('texte en gras').and.include("<img src=x onerror=alert('texte')>");
    const inspection = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img, iframe, style, object, embed').length,
      eventAttributes: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name)),
      hrefs: [...document.querySelectorAll('article a')].map((a) => a.getAttribute('href')),
      xss: (window as unknown as { __xss?: number }).__xss,
    }));
    expect(inspection).to.deep.equal({ scripts: 0, imgs: 0, eventAttributes: [], hrefs: ['https://example.org/resultats'], xss: undefined });
    expect(await page.locator('.link-dropped').allInnerTexts()).to.deep.equal(['lien javascript', 'lien javascript 2']);
    await page.locator('article.cda').getByText('texte en gras').hover();
    await page.locator('.link-dropped').first().click();
    expect(page.url()).to.equal(`${cg.url}/console/pro/documents/${enc(hostile)}`);
    expect(await page.locator('h1').innerText()).to.equal("Compte rendu <img src=x onerror=alert('titre')> piégé");
    expect(dialogs).to.deep.equal([]);
    await shot('professional-hostile-document');
  });

  it('lets the patient mask a document, block a professional, refuse emergency access and read the access history', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.goto(`${cg.url}/console/patient/login`);
    await page.getByLabel('Jeton de session patient').fill(await cg.patientToken(patientId));
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`${cg.url}/console/patient`);
    expect(await page.locator('h1').innerText()).to.equal('Mon dossier');
    expect(await page.locator('table.documents').innerText()).to.include('Sérologie (masquée aux professionnels)');

    await page.getByRole('button', { name: 'Masquer Bilan sanguin de janvier (corrigé) aux professionnels' }).click();
    expect(await page.getByRole('status').first().innerText()).to.equal('Le document est masqué aux professionnels.');
    await page.getByLabel('Identifiant national du professionnel à bloquer (IdNat_PS)').fill('810005556667');
    await page.getByRole('button', { name: 'Bloquer', exact: true }).click();
    expect(await page.locator('ul.blocked').innerText()).to.include('810005556667');
    await page.getByLabel('Refusé').check();
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    expect(await page.getByLabel('Refusé').isChecked()).to.equal(true);

    const timeline = await page.locator('ol.timeline').innerText();
    expect(timeline).to.include(`par ${DR.name}`).and.include('Recherche de documents').and.include('Consultation de documents').and.include('Document masqué');
    await shot('patient');
    await page.getByRole('link', { name: 'English' }).click();
    expect(await page.locator('h1').innerText()).to.equal('My record');
    expect(await page.locator('ol.timeline').innerText()).to.include('Documents opened');
    await page.getByRole('link', { name: 'Français' }).click();
  });

  it('hides from the professional what the patient masked', async () => {
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.goto(`${cg.url}/console/pro/login`);
    await page.getByLabel('Nom', { exact: true }).fill(DR.name);
    await page.getByLabel('Identifiant national du professionnel').fill(DR.professionalId);
    await page.getByLabel('Identifiant de la structure').fill(DR.organisationId);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.goto(`${cg.url}/console/pro?patientId=${enc(patientId)}`);
    const titles = await page.locator('table.documents tbody th').allInnerTexts();
    expect(titles).not.to.include('Bilan sanguin de janvier (corrigé)');
    await page.goto(`${cg.url}/console/pro/documents/${enc(current)}`);
    expect(await page.locator('h1').innerText()).to.equal('Document introuvable');
  });

  it('shows operators queues, failed jobs with a retry button, errors and registry size', async () => {
    const failed = await seedFailedIndexJob(cg.gw);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.goto(`${cg.url}/console/operator/login?lang=en`);
    await page.getByLabel('Operator key').fill(OPERATOR_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${cg.url}/console/operator`);
    expect(await page.locator('h1').innerText()).to.equal('Operations');
    const text = await main().innerText();
    expect(text).to.include('Requests by transaction').and.include('ITI-41').and.include('Registry size').and.include(failed);
    expect(await page.locator('dl.meta').innerText()).to.match(/Document entries\s+\d+/);
    await shot('operator');
    await page.getByRole('button', { name: `Retry job ${failed} of the index queue` }).click();
    expect(await page.getByRole('status').first().innerText()).to.equal('The job was put back in its queue.');
    expect(dialogs).to.deep.equal([]);
  });
});
