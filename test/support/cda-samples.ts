import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument } from 'libxml2-wasm';
import { iiToCx, readHeader } from '../../src/cda/header.js';
import { escapeXml } from '../../src/xml/tree.js';
import { newOid } from './ids.js';

/** Where our own synthetic CDA documents live. */
export const SAMPLES_CDA_DIR = fileURLToPath(new URL('../../samples/cda/', import.meta.url));

/** A sample of samples/cda as bytes, unchanged. */
export function sampleCda(name: string): Buffer {
  if (!/^[\w.-]+\.xml$/.test(name)) throw new Error(`not a sample name: ${name}`);
  return readFileSync(SAMPLES_CDA_DIR + name);
}

/** `ID^^^&OID&ISO` split into the CDA II it stands for. */
export function patientIdToII(patientId: string): { root: string; extension: string } {
  const m = /^([^^&]+)\^\^\^&([0-9.]+)&ISO(?:\^.*)?$/.exec(patientId);
  if (!m) throw new Error(`not an XDS patient id (ID^^^&OID&ISO): ${patientId}`);
  return { extension: m[1]!, root: m[2]! };
}

/** The XDS patient id of a CDA document: its first recordTarget id, read by the gateway's own header reader. */
export function cdaPatientId(bytes: Buffer): string {
  const doc = XmlDocument.fromBuffer(bytes, { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE });
  try {
    return iiToCx(readHeader(doc).patientIds[0]!);
  } finally {
    doc.dispose();
  }
}

/** HL7 TS with an explicit UTC offset, e.g. 20240312094500+0000. */
export function hl7Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + '+0000';
}

export interface LabPatient {
  family: string;
  given: string;
  gender: 'F' | 'M';
  /** YYYYMMDD */
  birthTime: string;
}

export interface LabResultOptions {
  /** Approximate size of the document; results are added until it is reached (default 45). */
  sizeKb?: number;
  /** ClinicalDocument/id root (default: a fresh OID). */
  uniqueId?: string;
  /** ClinicalDocument/setId root (default: uniqueId + '.0'). */
  setId?: string;
  /** When the report was validated; specimen and reception times are derived from it (default: now). */
  at?: Date;
  patient?: LabPatient;
}

const DEFAULT_PATIENT: LabPatient = { family: 'ESSAI-LABO', given: 'Camille', gender: 'F', birthTime: '19850612' };

/** A CR-BIO (11502-2) for this patient, of about the requested size; body text is built once per size. */
export function makeLabResult(patientId: string, opts: LabResultOptions = {}): Buffer {
  const sizeKb = opts.sizeKb ?? 45;
  const at = opts.at ?? new Date();
  const uniqueId = opts.uniqueId ?? newOid();
  const times = {
    validated: hl7Time(at),
    received: hl7Time(new Date(at.getTime() - 4 * 3600_000)),
    collected: hl7Time(new Date(at.getTime() - 5 * 3600_000)),
    prescribed: hl7Time(new Date(at.getTime() - 26 * 3600_000)),
  };
  const header = labHeader({
    ii: patientIdToII(patientId),
    patient: opts.patient ?? DEFAULT_PATIENT,
    uniqueId,
    setId: opts.setId ?? `${uniqueId}.0`,
    times,
  });
  const target = sizeKb * 1024 - Buffer.byteLength(header) - FOOTER.length;
  const body = labBody(target).join(times.collected);
  return Buffer.from(header + body + FOOTER, 'utf8');
}

/** samples/cda/cr-bio-45k.xml is exactly this document (a test keeps the two in step). */
export function labResultSample(): Buffer {
  return makeLabResult('282059999900181^^^&1.2.250.1.213.1.4.8&ISO', {
    sizeKb: 45,
    uniqueId: '1.2.250.1.999.9.1.1.1',
    setId: '1.2.250.1.999.9.1.1.0',
    at: new Date('2024-06-03T09:45:00Z'),
    patient: { family: 'MARTIN-ESSAI', given: 'Lucie', gender: 'F', birthTime: '19820514' },
  });
}

interface Analyte {
  loinc: string;
  /** LOINC long name, French linguistic variant style. */
  display: string;
  label: string;
  unit: string;
  low?: number;
  high?: number;
  decimals: number;
}

interface Panel {
  chapter: { code: string; display: string; title: string };
  code: string;
  display: string;
  title: string;
  specimen: { code: string; display: string };
  analytes: Analyte[];
}

const a = (loinc: string, label: string, display: string, unit: string, low: number | undefined, high: number | undefined, decimals: number): Analyte => ({
  loinc,
  label,
  display,
  unit,
  low,
  high,
  decimals,
});

const HEMATO = { code: '18723-7', display: 'Hématologie', title: 'HÉMATOLOGIE' };
const BIOCHIMIE = { code: '18719-5', display: 'Biochimie', title: 'BIOCHIMIE' };
const COAG = { code: '18720-3', display: 'Coagulation', title: 'HÉMOSTASE' };
const BLOOD = { code: 'BLD', display: 'Sang total' };
const SERUM = { code: 'SER', display: 'Sérum' };
const PLASMA = { code: 'PLAS', display: 'Plasma' };

const PANELS: Panel[] = [
  {
    chapter: HEMATO,
    code: '58410-2',
    display: 'Hémogramme complet',
    title: 'Numération formule sanguine',
    specimen: BLOOD,
    analytes: [
      a('789-8', 'Hématies', 'Érythrocytes [Nombre/Volume] Sang ; Numérique', '10*12/L', 3.8, 5.3, 2),
      a('718-7', 'Hémoglobine', 'Hémoglobine [Masse/Volume] Sang ; Numérique', 'g/dL', 12.0, 16.0, 1),
      a('4544-3', 'Hématocrite', 'Hématocrite [Fraction volumique] Sang ; Numérique', '%', 36, 47, 1),
      a('787-2', 'VGM', 'Volume globulaire moyen [Volume d\'entité] Érythrocytes ; Numérique', 'fL', 80, 100, 0),
      a('785-6', 'TCMH', 'Teneur corpusculaire moyenne en hémoglobine [Masse d\'entité] Érythrocytes ; Numérique', 'pg', 27, 32, 1),
      a('786-4', 'CCMH', 'Concentration corpusculaire moyenne en hémoglobine [Masse/Volume] Érythrocytes ; Numérique', 'g/dL', 32, 36, 1),
      a('6690-2', 'Leucocytes', 'Leucocytes [Nombre/Volume] Sang ; Numérique', '10*9/L', 4.0, 10.0, 2),
      a('751-8', 'Polynucléaires neutrophiles', 'Polynucléaires neutrophiles [Nombre/Volume] Sang ; Numérique', '10*9/L', 1.8, 7.5, 2),
      a('711-2', 'Polynucléaires éosinophiles', 'Polynucléaires éosinophiles [Nombre/Volume] Sang ; Numérique', '10*9/L', 0.0, 0.5, 2),
      a('704-7', 'Polynucléaires basophiles', 'Polynucléaires basophiles [Nombre/Volume] Sang ; Numérique', '10*9/L', 0.0, 0.1, 2),
      a('731-0', 'Lymphocytes', 'Lymphocytes [Nombre/Volume] Sang ; Numérique', '10*9/L', 1.0, 4.0, 2),
      a('742-7', 'Monocytes', 'Monocytes [Nombre/Volume] Sang ; Numérique', '10*9/L', 0.2, 1.0, 2),
      a('777-3', 'Plaquettes', 'Plaquettes [Nombre/Volume] Sang ; Numérique', '10*9/L', 150, 400, 0),
    ],
  },
  {
    chapter: BIOCHIMIE,
    code: '24326-1',
    display: 'Ionogramme',
    title: 'Ionogramme et fonction rénale',
    specimen: SERUM,
    analytes: [
      a('2951-2', 'Sodium', 'Sodium [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 136, 145, 0),
      a('2823-3', 'Potassium', 'Potassium [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 3.5, 5.1, 1),
      a('2075-0', 'Chlorures', 'Chlorure [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 98, 107, 0),
      a('1963-8', 'Bicarbonates', 'Bicarbonate [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 22, 29, 0),
      a('22664-7', 'Urée', 'Urée [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 2.8, 7.2, 1),
      a('14682-9', 'Créatinine', 'Créatinine [Moles/Volume] Sérum/Plasma ; Numérique', 'umol/L', 45, 90, 0),
      a('62238-1', 'DFG estimé (CKD-EPI)', 'Débit de filtration glomérulaire/1,73 m² prédit [Volume/Temps] Sérum/Plasma ; Numérique ; Formule CKD-EPI', 'mL/min/{1.73_m2}', 90, undefined, 0),
      a('14749-6', 'Glucose', 'Glucose [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 3.9, 5.5, 2),
      a('2000-8', 'Calcium', 'Calcium [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 2.15, 2.55, 2),
      a('2885-2', 'Protéines totales', 'Protéines [Masse/Volume] Sérum/Plasma ; Numérique', 'g/L', 64, 83, 0),
      a('14933-6', 'Acide urique', 'Urate [Moles/Volume] Sérum/Plasma ; Numérique', 'umol/L', 150, 350, 0),
    ],
  },
  {
    chapter: BIOCHIMIE,
    code: '24325-3',
    display: 'Bilan hépatique',
    title: 'Bilan hépatique',
    specimen: SERUM,
    analytes: [
      a('1920-8', 'ASAT', 'Aspartate aminotransférase [Activité catalytique/Volume] Sérum/Plasma ; Numérique', 'U/L', undefined, 35, 0),
      a('1742-6', 'ALAT', 'Alanine aminotransférase [Activité catalytique/Volume] Sérum/Plasma ; Numérique', 'U/L', undefined, 35, 0),
      a('2324-2', 'Gamma-GT', 'Gamma-glutamyltransférase [Activité catalytique/Volume] Sérum/Plasma ; Numérique', 'U/L', undefined, 38, 0),
      a('6768-6', 'Phosphatases alcalines', 'Phosphatase alcaline [Activité catalytique/Volume] Sérum/Plasma ; Numérique', 'U/L', 35, 104, 0),
      a('14631-6', 'Bilirubine totale', 'Bilirubine [Moles/Volume] Sérum/Plasma ; Numérique', 'umol/L', undefined, 21, 0),
    ],
  },
  {
    chapter: BIOCHIMIE,
    code: '24331-1',
    display: 'Bilan lipidique',
    title: 'Bilan lipidique',
    specimen: SERUM,
    analytes: [
      a('14647-2', 'Cholestérol total', 'Cholestérol [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', undefined, 5.2, 2),
      a('14646-4', 'Cholestérol HDL', 'Cholestérol des HDL [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', 1.0, undefined, 2),
      a('39469-2', 'Cholestérol LDL (calculé)', 'Cholestérol des LDL [Moles/Volume] Sérum/Plasma ; Numérique ; Calcul', 'mmol/L', undefined, 3.4, 2),
      a('14927-8', 'Triglycérides', 'Triglycérides [Moles/Volume] Sérum/Plasma ; Numérique', 'mmol/L', undefined, 1.7, 2),
    ],
  },
  {
    chapter: BIOCHIMIE,
    code: '18719-5',
    display: 'Biochimie',
    title: 'Protéines, inflammation et marqueurs',
    specimen: SERUM,
    analytes: [
      a('1988-5', 'Protéine C réactive', 'Protéine C réactive [Masse/Volume] Sérum/Plasma ; Numérique', 'mg/L', undefined, 5, 1),
      a('2276-4', 'Ferritine', 'Ferritine [Masse/Volume] Sérum/Plasma ; Numérique', 'ug/L', 15, 150, 0),
      a('4548-4', 'Hémoglobine glyquée (HbA1c)', 'Hémoglobine A1c/Hémoglobine totale [Fraction massique] Sang ; Numérique', '%', 4.0, 6.0, 1),
      a('3016-3', 'TSH', 'Thyréostimuline [Unités arbitraires/Volume] Sérum/Plasma ; Numérique', 'm[IU]/L', 0.27, 4.2, 2),
    ],
  },
  {
    chapter: COAG,
    code: '18720-3',
    display: 'Coagulation',
    title: 'Hémostase',
    specimen: PLASMA,
    analytes: [
      a('5894-1', 'Taux de prothrombine', 'Temps de Quick réel/normal [Fraction temporelle] Plasma pauvre en plaquettes ; Numérique', '%', 70, 100, 0),
      a('6301-6', 'INR', 'INR Plasma pauvre en plaquettes ; Numérique', '{INR}', 0.8, 1.2, 2),
      a('3255-7', 'Fibrinogène', 'Fibrinogène [Masse/Volume] Plasma pauvre en plaquettes ; Numérique', 'g/L', 2.0, 4.0, 1),
    ],
  },
];

const FOOTER = `
    </structuredBody>
  </component>
</ClinicalDocument>
`;

const bodyCache = new Map<number, string[]>();

/**
 * The structuredBody content, split where the specimen collection time goes, so that a call
 * only joins strings. Panels repeat (a follow-up series) until the target size is reached.
 */
function labBody(targetBytes: number): string[] {
  const key = Math.max(0, Math.round(targetBytes / 512));
  const cached = bodyCache.get(key);
  if (cached) return cached;
  const target = key * 512;
  const chunks: string[] = [];
  let size = 0;
  let n = 0;
  for (let round = 0; chunks.length === 0 || size < target; round++) {
    for (const panel of PANELS) {
      let count = panel.analytes.length;
      let part = panelSection(panel, round, n, count);
      // The last panel is cut short so that the document lands near the target size.
      while (count > 1 && size + Buffer.byteLength(panelSection(panel, round, n, count - 1)) >= target) {
        part = panelSection(panel, round, n, --count);
      }
      chunks.push(part);
      n += count;
      size += Buffer.byteLength(part);
      if (size >= target) break;
    }
  }
  const parts = chunks.join('').split(COLLECTED);
  bodyCache.set(key, parts);
  return parts;
}

const COLLECTED = '\u0000collected\u0000';

const INTERPRETATION = {
  N: 'Normal',
  H: 'Au-dessus des valeurs de référence',
  L: 'Au-dessous des valeurs de référence',
} as const;

function resultValue(an: Analyte, n: number): { value: string; flag: keyof typeof INTERPRETATION } {
  const lo = an.low ?? 0;
  const hi = an.high ?? (an.low ?? 1) * 2;
  const frac = ((n * 37 + 11) % 100) / 100;
  if (n % 9 === 4 && an.high !== undefined) return { value: (an.high * 1.18).toFixed(an.decimals), flag: 'H' };
  if (n % 13 === 6 && an.low !== undefined && an.low > 0) return { value: (an.low * 0.82).toFixed(an.decimals), flag: 'L' };
  return { value: (lo + (hi - lo) * (0.15 + 0.7 * frac)).toFixed(an.decimals), flag: 'N' };
}

function rangeText(an: Analyte): string {
  if (an.low !== undefined && an.high !== undefined) return `${an.low} - ${an.high}`;
  if (an.high !== undefined) return `&lt; ${an.high}`;
  return `&gt; ${an.low}`;
}

function panelSection(panel: Panel, round: number, firstN: number, count: number): string {
  const results = panel.analytes.slice(0, count).map((an, i) => ({ an, n: firstN + i + 1 }));
  const title = round === 0 ? panel.title : `${panel.title} (contrôle n° ${round})`;
  const rows = results
    .map(({ an, n }) => {
      const { value, flag } = resultValue(an, n);
      const shown = flag === 'N' ? value : `<content styleCode="Bold">${value} ${flag}</content>`;
      return `
                    <tr>
                      <td><content ID="res-${n}">${escapeXml(an.label)}</content></td>
                      <td>${shown}</td>
                      <td>${escapeXml(an.unit)}</td>
                      <td>${rangeText(an)}</td>
                    </tr>`;
    })
    .join('');
  const observations = results.map(({ an, n }) => observation(an, n)).join('');
  return `
      <component>
        <section>
          <!-- Chapitre (IHE PALM Laboratory Specialty Section, CI-SIS FR-CR-BIO-Chapitre) -->
          <templateId root="1.3.6.1.4.1.19376.1.3.3.2.1"/>
          <templateId root="1.2.250.1.213.1.1.2.70"/>
          <code code="${panel.chapter.code}" displayName="${panel.chapter.display}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
          <title>${panel.chapter.title}</title>
          <component>
            <section>
              <!-- Sous-chapitre (IHE PALM Laboratory Report Item Section, CI-SIS FR-CR-BIO-Sous-Chapitre) -->
              <templateId root="1.3.6.1.4.1.19376.1.3.3.2.2"/>
              <templateId root="1.2.250.1.213.1.1.2.71"/>
              <code code="${panel.code}" displayName="${escapeXml(panel.display)}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
              <title>${escapeXml(title)}</title>
              <text>
                <table border="1">
                  <thead>
                    <tr>
                      <th>Examen</th>
                      <th>Résultat</th>
                      <th>Unité</th>
                      <th>Valeurs de référence</th>
                    </tr>
                  </thead>
                  <tbody>${rows}
                  </tbody>
                </table>
                <paragraph>Prélèvement : ${escapeXml(panel.specimen.display.toLowerCase())}. Résultats validés par le biologiste responsable.</paragraph>
              </text>
              <entry typeCode="DRIV">
                <!-- Laboratory Report Data Processing Entry (IHE PALM), FR-Resultats-examens-de-biologie-medicale (CI-SIS) -->
                <templateId root="1.3.6.1.4.1.19376.1.3.1"/>
                <templateId root="1.2.250.1.213.1.1.3.21"/>
                <act classCode="ACT" moodCode="EVN">
                  <code code="${panel.code}" displayName="${escapeXml(panel.display)}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
                  <statusCode code="completed"/>
                  <effectiveTime value="${COLLECTED}"/>
                  <specimen typeCode="SPC">
                    <specimenRole classCode="SPEC">
                      <specimenPlayingEntity classCode="ENT" determinerCode="INSTANCE">
                        <code code="${panel.specimen.code}" displayName="${panel.specimen.display}" codeSystem="2.16.840.1.113883.5.129"/>
                      </specimenPlayingEntity>
                    </specimenRole>
                  </specimen>${observations}
                </act>
              </entry>
            </section>
          </component>
        </section>
      </component>`;
}

function observation(an: Analyte, n: number): string {
  const { value, flag } = resultValue(an, n);
  const unit = escapeXml(an.unit);
  const low = an.low === undefined ? '' : `<low value="${an.low}" unit="${unit}"/>`;
  const high = an.high === undefined ? '' : `<high value="${an.high}" unit="${unit}"/>`;
  return `
                  <entryRelationship typeCode="COMP">
                    <observation classCode="OBS" moodCode="EVN">
                      <templateId root="1.3.6.1.4.1.19376.1.3.1.6"/>
                      <templateId root="1.2.250.1.213.1.1.3.80"/>
                      <code code="${an.loinc}" displayName="${escapeXml(an.display)}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC">
                        <originalText><reference value="#res-${n}"/></originalText>
                      </code>
                      <statusCode code="completed"/>
                      <effectiveTime value="${COLLECTED}"/>
                      <value xsi:type="PQ" value="${value}" unit="${unit}"/>
                      <interpretationCode code="${flag}" displayName="${INTERPRETATION[flag]}" codeSystem="2.16.840.1.113883.5.83"/>
                      <referenceRange typeCode="REFV">
                        <observationRange classCode="OBS" moodCode="EVN.CRT">
                          <value xsi:type="IVL_PQ">${low}${high}</value>
                          <interpretationCode code="N" codeSystem="2.16.840.1.113883.5.83"/>
                        </observationRange>
                      </referenceRange>
                    </observation>
                  </entryRelationship>`;
}

interface HeaderFacts {
  ii: { root: string; extension: string };
  patient: LabPatient;
  uniqueId: string;
  setId: string;
  times: { validated: string; received: string; collected: string; prescribed: string };
}

const BIOLOGIST = `
      <id root="1.2.250.1.71.4.2.1" extension="899700000011"/>
      <code code="G15_10/SM03" displayName="Médecin - Biologie médicale (SM)" codeSystem="1.2.250.1.213.1.1.4.5"/>
      <addr>
        <houseNumber>4</houseNumber>
        <streetName>Rue des Tilleuls</streetName>
        <postalCode>99100</postalCode>
        <city>SAINT-EXEMPLE</city>
      </addr>
      <telecom value="tel:+33-1-99-00-00-11" use="WP"/>
      <assignedPerson>
        <name>
          <prefix>MME</prefix>
          <given>Hélène</given>
          <family>VERNIER-ESSAI</family>
          <suffix>DR</suffix>
        </name>
      </assignedPerson>`;

const LABORATORY = `
        <id root="1.2.250.1.71.4.2.2" extension="1999000017"/>
        <name>Laboratoire de biologie médicale des Tilleuls (fictif)</name>
        <telecom value="tel:+33-1-99-00-00-10" use="WP"/>
        <addr>
          <houseNumber>4</houseNumber>
          <streetName>Rue des Tilleuls</streetName>
          <postalCode>99100</postalCode>
          <city>SAINT-EXEMPLE</city>
        </addr>`;

const AMBULATOIRE = `<standardIndustryClassCode code="AMBULATOIRE" displayName="Ambulatoire" codeSystem="1.2.250.1.213.1.1.4.9" codeSystemName="practiceSettingCode"/>`;

function labHeader(h: HeaderFacts): string {
  const p = h.patient;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!--
  Compte rendu d'examens de biologie médicale (CR-BIO), document SYNTHÉTIQUE : patient, professionnels,
  établissements et résultats sont fictifs. Produit par test/support/cda-samples.ts (makeLabResult).
-->
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:lab="urn:oid:1.3.6.1.4.1.19376.1.3.2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <!-- HL7 France, CI-SIS, IHE PALM XD-LAB, modèle CR-BIO du CI-SIS -->
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.3.3"/>
  <templateId root="1.2.250.1.213.1.1.1.55"/>
  <id root="${h.uniqueId}"/>
  <code code="11502-2" displayName="CR d'examens biologiques" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
  <title>Compte rendu d'examens de biologie médicale</title>
  <effectiveTime value="${h.times.validated}"/>
  <confidentialityCode code="N" displayName="Normal" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="${h.setId}"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      <!-- INS-NIR fictif (la clé est calculée, le NIR n'est attribué à personne) -->
      <id root="${h.ii.root}" extension="${escapeXml(h.ii.extension)}"/>
      <addr use="H">
        <houseNumber>17</houseNumber>
        <streetName>Allée des Essais</streetName>
        <postalCode>99100</postalCode>
        <city>SAINT-EXEMPLE</city>
        <country>FRANCE</country>
      </addr>
      <telecom value="tel:+33-6-99-00-00-01" use="MC"/>
      <patient classCode="PSN">
        <name>
          <family qualifier="BR">${escapeXml(p.family)}</family>
          <given qualifier="BR">${escapeXml(p.given)}</given>
          <family qualifier="CL">${escapeXml(p.family)}</family>
          <given qualifier="CL">${escapeXml(p.given)}</given>
        </name>
        <administrativeGenderCode code="${p.gender}" displayName="${p.gender === 'F' ? 'Féminin' : 'Masculin'}" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="${p.birthTime}"/>
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="${h.times.validated}"/>
    <assignedAuthor>${BIOLOGIST}
      <representedOrganization>${LABORATORY}
        ${AMBULATOIRE}
      </representedOrganization>
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization>${LABORATORY}
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <legalAuthenticator>
    <time value="${h.times.validated}"/>
    <signatureCode code="S"/>
    <assignedEntity>${BIOLOGIST}
      <representedOrganization>${LABORATORY}
        ${AMBULATOIRE}
      </representedOrganization>
    </assignedEntity>
  </legalAuthenticator>
  <!-- Prescripteur -->
  <participant typeCode="REF">
    <templateId root="1.3.6.1.4.1.19376.1.3.3.1.6"/>
    <time xsi:type="IVL_TS">
      <high value="${h.times.prescribed}"/>
    </time>
    <associatedEntity classCode="PROV">
      <id root="1.2.250.1.71.4.2.1" extension="899700000028"/>
      <code code="G15_10/SM26" displayName="Médecin - Qualifié en Médecine Générale (SM)" codeSystem="1.2.250.1.213.1.1.4.5"/>
      <addr>
        <streetAddressLine>9 place du Marché</streetAddressLine>
        <streetAddressLine>99100 SAINT-EXEMPLE</streetAddressLine>
      </addr>
      <telecom value="tel:+33-1-99-00-00-28" use="WP"/>
      <associatedPerson>
        <name>
          <prefix>M</prefix>
          <given>Bruno</given>
          <family>LEMAIRE-TEST</family>
          <suffix>DR</suffix>
        </name>
      </associatedPerson>
    </associatedEntity>
  </participant>
  <inFulfillmentOf>
    <order>
      <id root="1.2.250.1.999.9.0.2" extension="${h.uniqueId}"/>
    </order>
  </inFulfillmentOf>
  <documentationOf>
    <serviceEvent>
      <code code="18719-5" displayName="Biochimie" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
      <lab:statusCode code="completed"/>
      <effectiveTime>
        <!-- réception de la demande et des échantillons ; validation du compte rendu -->
        <low value="${h.times.received}"/>
        <high value="${h.times.validated}"/>
      </effectiveTime>
      <performer typeCode="PRF">
        <templateId root="1.3.6.1.4.1.19376.1.3.3.1.7"/>
        <time>
          <high value="${h.times.validated}"/>
        </time>
        <assignedEntity>${BIOLOGIST}
          <representedOrganization>${LABORATORY}
            ${AMBULATOIRE}
          </representedOrganization>
        </assignedEntity>
      </performer>
    </serviceEvent>
  </documentationOf>
  <documentationOf>
    <serviceEvent>
      <code code="18723-7" displayName="Hématologie" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
    </serviceEvent>
  </documentationOf>
  <documentationOf>
    <serviceEvent>
      <code code="18720-3" displayName="Coagulation" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC"/>
    </serviceEvent>
  </documentationOf>
  <componentOf>
    <encompassingEncounter>
      <code code="AMB" displayName="Ambulatoire" codeSystem="2.16.840.1.113883.5.4"/>
      <effectiveTime>
        <low value="${h.times.collected}"/>
      </effectiveTime>
      <location>
        <healthCareFacility>
          <code code="SA25" displayName="Laboratoire de biologie médicale" codeSystem="1.2.250.1.71.4.2.4"/>
        </healthCareFacility>
      </location>
    </encompassingEncounter>
  </componentOf>
  <component>
    <structuredBody>`;
}
