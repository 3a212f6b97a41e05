/**
 * A registry filled with realistic, varied and reproducible metadata, for benchmarks and load tests
 * (`npm run seed`, src/cli/seed.ts; bench/query.ts).
 *
 * The rows are made by PostgreSQL, one INSERT ... SELECT generate_series statement per batch, because a
 * million 7 kB entries cannot travel from Node in a few minutes. What makes them realistic is built here,
 * once: a few hundred *variants*, each a full DocumentEntry (and its SubmissionSet) rendered with the
 * registry's own serializer, as `rim` JSON and as the LeafClass template of the commit path, with numbered
 * `format()` placeholders where a row puts its own ids, patient, times, author and title. Each row picks a
 * variant and an author by hash, so the same arguments always give the same data.
 *
 * Document i (1-based) of a registry of P patients belongs to patient (i - 1) mod P and is that patient's
 * ((i - 1) div P)-th document: a patient's entries are spread over the table as in a live registry. A
 * patient's documents go by 1 to 4 into submission sets, written by the row of their first document.
 */
import type { RimClassification, RimExternalIdentifier, RimObject, RimSlot } from '../ebrim/model.js';
import { rimObjectTemplate } from '../ebrim/serialize.js';
import { ASSOCIATION_TYPE, CLASSIFICATION_NODE, DOCUMENT_ENTRY_SCHEME, OBJECT_TYPE, STATUS, SUBMISSION_SET_SCHEME } from '../ebrim/uuids.js';
import { CONSENT_CHANNELS } from '../policy/records.js';
import { INS_NIR_OID } from '../config.js';
import { seededRandom } from '../random.js';
import type { Db } from './db.js';

export const DEFAULT_DOCUMENTS_PER_PATIENT = 50;
export const DEFAULT_BATCH = 100_000;
export const DEFAULT_REPOSITORY_UNIQUE_ID = '1.2.250.1.999.1.1.1';
/** Patient numbers are 8 digits of the INS-NIR built from them. */
export const MAX_PATIENTS = 99_999_999;
export const MAX_DOCUMENTS = 1_000_000_000;

const DOCUMENT_UNIQUE_ID_ROOT = '1.2.250.1.999.77';
const SUBMISSION_SET_UNIQUE_ID_ROOT = '1.2.250.1.999.78';
const SOURCE_ID_ROOT = '1.2.250.1.999.79';
const RPPS_OID = '1.2.250.1.71.4.2.1';
const IDNST_OID = '1.2.250.1.71.4.2.2';

/** The uniqueId of document `i` (1-based). */
export const documentUniqueIdOf = (i: number): string => `${DOCUMENT_UNIQUE_ID_ROOT}.${i}`;

/** Sex and birth date of patient `p` (0-based): plain arithmetic on p, the same as the `person` step of SEED_SQL. */
function patientFacts(p: number): { sex: 1 | 2; year: number; month: number; day: number } {
  return { sex: (1 + (p % 2)) as 1 | 2, year: 1930 + ((p * 7919) % 85), month: 1 + ((p * 31) % 12), day: 1 + ((p * 17) % 28) };
}

/** The patient id of patient `p` (0-based): an INS-NIR (sex, birth year and month, 8 digits of p, key) in the CX form. */
export function patientIdOf(p: number): string {
  const { sex, year, month } = patientFacts(p);
  const nir = sex * 1e12 + (year % 100) * 1e10 + month * 1e8 + p;
  return `${nir}${String(97 - (nir % 97)).padStart(2, '0')}^^^&${INS_NIR_OID}&ISO`;
}

// The nomenclatures: document kinds as the CI-SIS defines them (cda-templates/, samples/xds), specialties,
// institutions and names. Data, not logic.

interface Code {
  code: string;
  scheme: string;
  display: string;
}

const code = (c: string, scheme: string, display: string): Code => ({ code: c, scheme, display });

const LOINC = '2.16.840.1.113883.6.1';
const CLASS = (c: string, display: string) => code(c, '1.2.250.1.213.1.1.4.1', display);
const CI_SIS_FORMAT = (c: string, display: string) => code(c, '1.2.250.1.213.1.1.4.2.282', display);
const IHE_FORMAT = (c: string, display: string) => code(c, '1.3.6.1.4.1.19376.1.2.3', display);
const FACILITY = (c: string, display: string) => code(c, '1.2.250.1.71.4.2.4', display);
const PRACTICE = (c: string, display: string) => code(c, '1.2.250.1.213.1.1.4.9', display);
const MODALITY = (c: string, display: string) => code(c, '1.2.840.10008.2.16.4', display);

const NORMAL = code('N', '2.16.840.1.113883.5.25', 'Normal');
/** DMP confidentiality codes, each on a fixed share of the variants (variant number mod 100). */
const DMP_CONFIDENTIALITY: { code: Code; shares: (n: number) => boolean }[] = [
  { code: code('MASQUE_PS', '1.2.250.1.213.1.1.4.13', 'Masqué aux professionnels de santé'), shares: (n) => n % 25 === 3 },
  { code: code('INVISIBLE_PATIENT', '1.2.250.1.213.1.1.4.13', 'Non visible par le patient'), shares: (n) => n % 50 === 7 },
  { code: code('INVISIBLE_REPRESENTANTS_LEGAUX', '1.2.250.1.213.1.1.4.13', 'Non visible par les représentants légaux du patient'), shares: (n) => n % 100 === 42 },
];

const CONTENT_TYPE = code('04', '1.2.250.1.213.2.2', 'Hospitalisation de jour');
const ROLE_MEDECIN = '10^Médecin^1.2.250.1.71.1.2.7';

/** Specialties of the authors (TRE_R38, as authorSpecialty `G15_10/SMxx`). */
const SPECIALTIES = {
  SM03: 'Biologie médicale',
  SM04: 'Cardiologie et maladies vasculaires',
  SM15: 'Dermatologie et vénéréologie',
  SM24: 'Gastro-entérologie et hépatologie',
  SM26: 'Qualifié en Médecine Générale',
  SM27: 'Médecine interne',
  SM32: 'Neurologie',
  SM40: 'Pédiatrie',
  SM41: 'Pneumologie',
  SM44: 'Radio-diagnostic',
  SM48: 'Rhumatologie',
} as const;
type Specialty = keyof typeof SPECIALTIES;

/** Where documents are written: the healthcareFacilityTypeCode and practiceSettingCode go with the place. */
const PLACES = {
  hospital: { facility: FACILITY('SA01', 'Etablissement public de santé'), practice: PRACTICE('ETABLISSEMENT', 'Etablissement de santé'), institutions: 60 },
  laboratory: { facility: FACILITY('SA25', 'Laboratoire de biologie médicale'), practice: PRACTICE('AMBULATOIRE', 'Ambulatoire'), institutions: 50 },
  imaging: { facility: FACILITY('SA08', 'Cabinet de groupe'), practice: PRACTICE('AMBULATOIRE', 'Ambulatoire'), institutions: 40 },
  groupPractice: { facility: FACILITY('SA08', 'Cabinet de groupe'), practice: PRACTICE('AMBULATOIRE', 'Ambulatoire'), institutions: 60 },
  // One practice per professional.
  soloPractice: { facility: FACILITY('SA07', 'Cabinet individuel'), practice: PRACTICE('AMBULATOIRE', 'Ambulatoire'), institutions: 0 },
  nursingHome: { facility: FACILITY('SA17', 'Etablissement pour personnes âgées'), practice: PRACTICE('ETABLISSEMENT', 'Etablissement de santé'), institutions: 80 },
} as const;
type Place = keyof typeof PLACES;

interface Flavour {
  /** Appended to the kind's title after a dash, when given. */
  title?: string;
  /** The whole title, instead of the kind's. */
  fullTitle?: string;
  specialty?: Specialty;
  places?: Place[];
  events?: Code[];
}

/** Every seeded document is a CDA R2 document, those with a PDF or text body included. */
const MIME_TYPE = 'text/xml';

interface DocumentKind {
  name: string;
  /** Percent of the entries. */
  weight: number;
  title: string;
  classCode: Code;
  typeCode: Code;
  formatCode: Code;
  specialty: Specialty;
  places: Place[];
  flavours: Flavour[];
  /** Length of the documented act (serviceStop - serviceStart), and from its end to the document's creation, minutes. */
  serviceMinutes: [number, number];
  delayMinutes: [number, number];
  sizeKb: [number, number];
}

/**
 * The document kinds and their share of the entries. Class 10 is 60 % of them, so that a FindDocuments on
 * class 10 over 7 of the 10 years returns about 21 of a patient's 50 entries (bench/query.ts).
 */
export const DOCUMENT_KINDS: DocumentKind[] = [
  {
    name: 'CR-BIO',
    weight: 32,
    title: 'Compte rendu de biologie',
    classCode: CLASS('10', 'Compte rendu'),
    typeCode: code('11502-2', LOINC, "CR d'examens biologiques"),
    formatCode: IHE_FORMAT('urn:ihe:lab:xd-lab:2008', 'CR de biologie'),
    specialty: 'SM03',
    places: ['laboratory', 'laboratory', 'hospital'],
    flavours: ['Bilan sanguin', 'Numération formule sanguine', 'Bilan lipidique', 'Hémoglobine glyquée', 'Bilan hépatique', 'Ionogramme sanguin', 'Sérologies', 'Bilan thyroïdien'].map(
      (title) => ({ title }),
    ),
    serviceMinutes: [0, 360],
    delayMinutes: [60, 2880],
    sizeKb: [20, 90],
  },
  {
    name: 'LDL-SES',
    weight: 13,
    title: 'Lettre de liaison à la sortie',
    classCode: CLASS('10', 'Compte rendu'),
    typeCode: code('11490-0', LOINC, "Lettre de liaison à la sortie d'un établissement de soins"),
    formatCode: CI_SIS_FORMAT('urn:asip:ci-sis:ldl-ses:2017', 'Lettre de liaison à la sortie'),
    specialty: 'SM27',
    places: ['hospital'],
    flavours: [
      { title: 'Médecine interne', specialty: 'SM27' },
      { title: 'Cardiologie', specialty: 'SM04' },
      { title: 'Pneumologie', specialty: 'SM41' },
      { title: 'Neurologie', specialty: 'SM32' },
      { title: 'Gastro-entérologie', specialty: 'SM24' },
      { title: 'Pédiatrie', specialty: 'SM40' },
    ],
    serviceMinutes: [1440, 30240],
    delayMinutes: [0, 240],
    sizeKb: [30, 120],
  },
  {
    name: 'CR-CONSULTATION-PDF',
    weight: 9,
    title: 'Compte rendu de consultation',
    classCode: CLASS('10', 'Compte rendu'),
    typeCode: code('11488-4', LOINC, 'CR de consultation'),
    formatCode: IHE_FORMAT('urn:ihe:iti:xds-sd:pdf:2008', 'Document à corps non structuré en PDF'),
    specialty: 'SM04',
    places: ['groupPractice', 'soloPractice'],
    flavours: [
      { fullTitle: 'Compte rendu de consultation de cardiologie', specialty: 'SM04' },
      { fullTitle: 'Compte rendu de consultation de dermatologie', specialty: 'SM15' },
      { fullTitle: 'Compte rendu de consultation de rhumatologie', specialty: 'SM48' },
      { fullTitle: 'Compte rendu de consultation de pneumologie', specialty: 'SM41' },
      { fullTitle: 'Compte rendu de consultation de neurologie', specialty: 'SM32' },
      { fullTitle: "Compte rendu de consultation d'hépato-gastro-entérologie", specialty: 'SM24' },
    ],
    serviceMinutes: [15, 45],
    delayMinutes: [0, 120],
    sizeKb: [80, 900],
  },
  {
    name: 'CR-CONSULTATION-TEXT',
    weight: 2,
    title: 'Compte rendu de consultation',
    classCode: CLASS('10', 'Compte rendu'),
    typeCode: code('11488-4', LOINC, 'CR de consultation'),
    formatCode: IHE_FORMAT('urn:ihe:iti:xds-sd:text:2008', 'Document à corps non structuré en texte brut'),
    specialty: 'SM26',
    places: ['soloPractice'],
    flavours: [{ fullTitle: 'Compte rendu de consultation de médecine générale' }, { fullTitle: 'Courrier de consultation' }],
    serviceMinutes: [15, 30],
    delayMinutes: [0, 60],
    sizeKb: [4, 20],
  },
  {
    name: 'VAC',
    weight: 4,
    title: 'Note de vaccination',
    classCode: CLASS('10', 'Compte rendu'),
    typeCode: code('11369-6', LOINC, 'Historique des vaccinations'),
    formatCode: IHE_FORMAT('urn:ihe:iti:xds:2017:mimeTypeSufficient', 'Format défini par le type MIME'),
    specialty: 'SM26',
    places: ['soloPractice'],
    flavours: ['Grippe saisonnière', 'COVID-19', 'Diphtérie, tétanos, poliomyélite', 'Rougeole, oreillons, rubéole', 'Pneumocoque', 'Papillomavirus'].map((title) => ({ title })),
    serviceMinutes: [5, 15],
    delayMinutes: [0, 30],
    sizeKb: [12, 40],
  },
  {
    name: 'CR-IMG',
    weight: 18,
    title: "CR d'imagerie médicale",
    classCode: CLASS('31', 'Imagerie médicale'),
    typeCode: code('18748-4', LOINC, "CR d'imagerie médicale"),
    formatCode: IHE_FORMAT('urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013', "CR d'imagerie médicale"),
    specialty: 'SM44',
    places: ['imaging', 'imaging', 'hospital'],
    flavours: [
      { title: 'Scanner thoracique', events: [MODALITY('CT', 'Computed Tomography')] },
      { title: 'Scanner abdomino-pelvien', events: [MODALITY('CT', 'Computed Tomography')] },
      { title: 'IRM cérébrale', events: [MODALITY('MR', 'Magnetic Resonance')] },
      { title: 'IRM du genou', events: [MODALITY('MR', 'Magnetic Resonance')] },
      { title: 'Échographie abdominale', events: [MODALITY('US', 'Ultrasound')] },
      { title: 'Échographie thyroïdienne', events: [MODALITY('US', 'Ultrasound')] },
      { title: 'Radiographie du thorax', events: [MODALITY('DX', 'Digital Radiography')] },
      { title: 'Radiographie du bassin', events: [MODALITY('DX', 'Digital Radiography')] },
      { title: 'Mammographie bilatérale', events: [MODALITY('MG', 'Mammography')] },
    ],
    serviceMinutes: [10, 60],
    delayMinutes: [30, 1440],
    sizeKb: [15, 60],
  },
  {
    name: 'VSM',
    weight: 13,
    title: 'Volet de synthèse médicale',
    classCode: CLASS('11', 'Synthèse'),
    typeCode: code('SYNTH', '1.2.250.1.213.1.1.4.12', 'Synthèse'),
    formatCode: CI_SIS_FORMAT('urn:asip:ci-sis:vsm:2012', 'Volet de synthèse médicale'),
    specialty: 'SM26',
    places: ['soloPractice', 'soloPractice', 'groupPractice'],
    flavours: [{}],
    serviceMinutes: [0, 0],
    delayMinutes: [0, 60],
    sizeKb: [25, 80],
  },
  {
    name: 'DLU',
    weight: 9,
    title: "Dossier de liaison d'urgence",
    classCode: CLASS('11', 'Synthèse'),
    typeCode: code('74207-2', LOINC, "Dossier de liaison d'urgence"),
    formatCode: CI_SIS_FORMAT('urn:asip:ci-sis:dlu:2015', "Dossier de liaison d'urgence"),
    specialty: 'SM26',
    places: ['nursingHome'],
    flavours: [
      {},
      { fullTitle: "Fiche de liaison d'urgence transmise" },
      { fullTitle: "Fiche de liaison d'urgence retour", specialty: 'SM27', places: ['hospital'] },
    ],
    serviceMinutes: [10, 60],
    delayMinutes: [0, 60],
    sizeKb: [20, 70],
  },
];

const CITIES = [
  'Agen', 'Albi', 'Angers', 'Annecy', 'Arras', 'Auxerre', 'Bayonne', 'Besançon', 'Béziers', 'Blois', 'Bourges', 'Brest', 'Caen', 'Cahors',
  'Carcassonne', 'Chambéry', 'Châteauroux', 'Colmar', 'Dijon', 'Épinal', 'Évreux', 'Gap', 'Grenoble', 'Laval', 'Limoges', 'Lorient', 'Mâcon',
  'Metz', 'Montauban', 'Montélimar', 'Mulhouse', 'Nancy', 'Nevers', 'Nîmes', 'Niort', 'Orléans', 'Pau', 'Périgueux', 'Poitiers', 'Quimper',
  'Rodez', 'Rouen', 'Saint-Brieuc', 'Saint-Étienne', 'Tarbes', 'Tours', 'Troyes', 'Valence', 'Vannes', 'Vienne',
];

const FAMILY_NAMES = [
  'MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFÈVRE', 'MICHEL',
  'GARCIA', 'DAVID', 'BERTRAND', 'ROUX', 'VINCENT', 'FOURNIER', 'MOREL', 'GIRARD', 'ANDRÉ', 'MERCIER', 'DUPONT', 'LAMBERT', 'BONNET', 'FRANÇOIS',
  'MARTINEZ', 'LEGRAND', 'GARNIER', 'FAURE', 'ROUSSEAU', 'BLANC', 'GUÉRIN', 'MULLER', 'HENRY', 'ROUSSEL', 'NICOLAS', 'PERRIN', 'MORIN', 'MATHIEU',
  'CLÉMENT', 'GAUTHIER', 'DUMONT', 'LOPEZ', 'FONTAINE', 'CHEVALIER', 'ROBIN', 'MASSON', 'SANCHEZ', 'GÉRARD', 'NGUYEN', 'BOYER', 'DENIS', 'LEMAIRE',
  'DUVAL', 'JOLY', 'GAUTIER', 'ROGER', 'ROCHE', 'ROY', 'NOËL', 'MEYER', 'LUCAS', 'MEUNIER', 'JEAN', 'PÉREZ', 'MARCHAND', 'DUFOUR', 'BLANCHARD',
  'MARIE', 'BARBIER', 'BRUN', 'DUMAS', 'BRUNET', 'SCHMITT', 'LEROUX', 'COLIN', 'FERNANDEZ', 'PIERRE', 'RENARD', 'ARNAUD', 'ROLLAND', 'CARON',
  'AUBERT', 'GIRAUD', 'LECLERC', 'VIDAL', 'BOURGEOIS', 'RENAUD', 'LEMOINE', 'PICARD', 'GAILLARD', 'PHILIPPE', 'LACROIX', 'DUPUIS', 'OLIVIER',
  'LE GALL', "N'DIAYE", 'DA SILVA', 'BENALI', 'HADDAD', 'KOUASSI', 'DE LA FONTAINE', 'LE BRIS', 'TRAN', 'BOUCHARD', 'LEBLANC-MOREAU', 'SAINT-ANDRÉ',
];
const FEMALE_NAMES = [
  'Hélène', 'Claire', 'Nadia', 'Chloé', 'Anaïs', 'Cécile', 'Séverine', 'Zoé', 'Maëlle', 'Noémie', 'Agnès', 'Inès', 'Léa', 'Camille', 'Sophie',
  'Émilie', 'Julie', 'Aurélie', 'Marion', 'Sandrine', 'Isabelle', 'Valérie', 'Nathalie', 'Fatima', 'Amina', 'Élodie', 'Céline', 'Mélanie', 'Laure',
  'Brigitte', 'Marie-Claude', 'Anne-Sophie', 'Louise', 'Manon', 'Sarah',
];
const MALE_NAMES = [
  'Paul', 'Luc', 'Jérôme', 'Frédéric', 'Stéphane', 'Gaël', 'Benoît', 'Clément', 'Rémi', 'Éric', 'Théo', 'Loïc', 'Julien', 'Nicolas', 'Thomas',
  'Mathieu', 'Karim', 'Mehdi', 'Olivier', 'Philippe', 'Laurent', 'Sébastien', 'Hervé', 'François', 'Yannick', 'Grégoire', 'Cédric', 'Antoine',
  'Hugo', 'Raphaël', 'Jean-Marc', 'Pierre-Yves', 'Louis', 'Adrien', 'Samuel',
];
const LABORATORIES = ['des Tilleuls', 'du Centre', 'de la Gare', 'Pasteur', 'Saint-Jacques', 'des Halles', 'du Parc'];
const NURSING_HOMES = ['Les Glycines', 'Les Tilleuls', 'Le Clos Fleuri', 'La Roseraie', 'Les Magnolias', 'Résidence du Parc', 'Les Jardins de Saint-Roch', 'Le Val Joli'];

/** The INS traits of a patient's name are upper case ASCII: the names above without diacritics or apostrophes. */
const insName = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f']/g, '').toUpperCase();
const PATIENT_FAMILY_NAMES = FAMILY_NAMES.map(insName);
const PATIENT_FEMALE_NAMES = FEMALE_NAMES.map(insName);
const PATIENT_MALE_NAMES = MALE_NAMES.map(insName);

// Professionals and institutions, drawn once by a seeded generator.

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

/** "de Nîmes", "d'Angers". */
const of = (name: string): string => (/^[AEIOUÉY]/.test(name) ? `d'${name}` : `de ${name}`);

/** Luhn check digit, as RPPS numbers carry. */
function luhn(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return (10 - (sum % 10)) % 10;
}

interface Institution {
  xon: string;
  sourceId: string;
}

interface Professional {
  person: string;
  institution: string;
  role: string;
  specialty: string;
  sourceId: string;
}

function institutionNamed(name: string, n: number, city: number): Institution {
  const id = `1${String(10 + (city % 90)).padStart(2, '0')}${String(700000 + n).padStart(7, '0')}`;
  return { xon: `${name}^^^^^&${IDNST_OID}&ISO^IDNST^^^${id}`, sourceId: `${SOURCE_ID_ROOT}.${n}` };
}

function institutionsOf(place: Place, random: () => number, next: () => number): Institution[] {
  return Array.from({ length: PLACES[place].institutions }, (_, k) => {
    const c = Math.floor(random() * CITIES.length);
    const city = CITIES[c]!;
    const name = {
      hospital: k % 4 === 0 ? `CHU ${of(city)}` : `Centre hospitalier ${of(city)}`,
      laboratory: `Laboratoire de biologie médicale ${pick(random, LABORATORIES)} (${city})`,
      imaging: `Cabinet d'imagerie médicale ${of(city)}`,
      groupPractice: `Maison de santé ${of(city)}`,
      soloPractice: '',
      nursingHome: `EHPAD ${pick(random, NURSING_HOMES)} (${city})`,
    }[place];
    return institutionNamed(name, next(), c);
  });
}

const specialtyValue = (s: Specialty): string => `G15_10/${s}^Médecin - ${SPECIALTIES[s]} (SM)^1.2.250.1.213.1.1.4.5`;

// Variants: full ebRIM objects with placeholders, rendered by the serializer.

/**
 * The per-row values of each template, in the order of the format() arguments: `@@NAME@@` in the rendered
 * object becomes `%n$s`. Each value is given in SQL twice: as it goes into the XML and into the JSON.
 */
const DOCUMENT_ARGS = {
  ID: ['f.e', 'f.e'],
  UID: ['f.unique_id', 'f.unique_id'],
  PID: ['f.pid_xml', 'f.pid'],
  CT: ['f.ct', 'f.ct'],
  START: ['f.ss', 'f.ss'],
  STOP: ['f.se', 'f.se'],
  DATE: ['f.title_date', 'f.title_date'],
  AUTHOR: ['a.body_xml', 'a.body_json'],
  LEGAL: ['a.legal_xml', 'a.legal_json'],
  NAME: ['f.pid5', 'f.pid5'],
  BIRTH: ['f.pid7', 'f.pid7'],
  SEX: ['f.pid8', 'f.pid8'],
  HASH: ['f.hash', 'f.hash'],
  SIZE: ['f.size::text', 'f.size::text'],
} as const;
const SUBMISSION_SET_ARGS = {
  SID: ['f.s', 'f.s'],
  SUID: ['f.set_unique_id', 'f.set_unique_id'],
  PID: ['f.pid_xml', 'f.pid'],
  TIME: ['f.st', 'f.st'],
  AUTHOR: ['a.body_xml', 'a.body_json'],
  SOURCE: ['a.source_id', 'a.source_id'],
} as const;
const ASSOCIATION_ARGS = { ID: ['f.e', 'f.e'], SID: ['f.s', 'f.s'] } as const;

const token = (name: string): string => `@@${name}@@`;
/** The slots of an author: replaced as a whole by the professional's. */
const AUTHOR_SLOTS: RimSlot[] = [{ name: token('AUTHOR'), values: [] }];

/** A rendered object as a format() template: literal `%` doubled, each token its numbered argument. */
function formatTemplate(rendered: string, args: Record<string, unknown>): string {
  let out = rendered.replaceAll('%', '%%');
  Object.keys(args).forEach((name, n) => (out = out.replaceAll(token(name), `%${n + 1}$s`)));
  const left = /@@[A-Z]+@@/.exec(out);
  if (left) throw new Error(`seed template: ${left[0]} has no argument`);
  return out;
}

/** The XML of classification slots as the serializer writes them (what sits between the opening and closing tag). */
function slotsXml(slots: RimSlot[]): string {
  const xml = rimObjectTemplate({
    kind: 'ExtrinsicObject',
    id: 'x',
    name: [],
    description: [],
    slots: [],
    classifications: [{ id: 'c', classifiedObject: 'x', name: [], description: [], slots }],
    externalIdentifiers: [],
  });
  const start = xml.indexOf('>', xml.indexOf('<rim:Classification ')) + 1;
  return xml.slice(start, xml.indexOf('</rim:Classification>', start));
}

/** One value as the serializer writes it in a slot. */
function valueXml(v: string): string {
  const xml = slotsXml([{ name: 'v', values: [v] }]);
  const start = xml.indexOf('<rim:Value>') + '<rim:Value>'.length;
  return xml.slice(start, xml.indexOf('</rim:Value>', start));
}

/** Both forms of a template: `rim` JSON and the LeafClass template, author slots and tokens turned into arguments. */
function templates(rim: RimObject, args: Record<string, unknown>): { json: string; xml: string } {
  const json = JSON.stringify(rim).replaceAll(JSON.stringify(AUTHOR_SLOTS), token('AUTHOR'));
  const xml = rimObjectTemplate(rim).replaceAll(slotsXml(AUTHOR_SLOTS), token('AUTHOR'));
  return { json: formatTemplate(json, args), xml: formatTemplate(xml, args) };
}

const slot = (name: string, ...values: string[]): RimSlot => ({ name, values });
const fr = (value: string) => [{ value, lang: 'fr-FR' }];

function classification(id: string, scheme: string, object: string, c: Code): RimClassification {
  return { id, classificationScheme: scheme, classifiedObject: object, nodeRepresentation: c.code, name: fr(c.display), description: [], slots: [slot('codingScheme', c.scheme)] };
}

function authorClassification(id: string, scheme: string, object: string): RimClassification {
  return { id, classificationScheme: scheme, classifiedObject: object, nodeRepresentation: '', name: [], description: [], slots: AUTHOR_SLOTS };
}

function externalIdentifier(id: string, scheme: string, object: string, value: string, name: string): RimExternalIdentifier {
  return { id, identificationScheme: scheme, registryObject: object, value, name: fr(name) };
}

/** Ids derived from the row's 34-character UUID prefix: the object is `…00`, its parts `…01`, `…02`, ... */
const childIds = (prefix: string) => {
  let n = 0;
  return () => `urn:uuid:${prefix}${(++n).toString(16).padStart(2, '0')}`;
};

interface VariantSpec {
  kind: DocumentKind;
  title: string;
  specialty: Specialty;
  place: Place;
  confidentiality: Code[];
  events: Code[];
}

function documentRim(v: VariantSpec, repositoryUniqueId: string): RimObject {
  const id = `urn:uuid:${token('ID')}00`;
  const next = childIds(token('ID'));
  const { kind } = v;
  const place = PLACES[v.place];
  return {
    kind: 'ExtrinsicObject',
    id,
    objectType: OBJECT_TYPE.stableDocumentEntry,
    mimeType: MIME_TYPE,
    name: fr(`${v.title} du ${token('DATE')}`),
    description: [],
    slots: [
      slot('creationTime', token('CT')),
      slot('languageCode', 'fr-FR'),
      slot('legalAuthenticator', token('LEGAL')),
      slot('serviceStartTime', token('START')),
      slot('serviceStopTime', token('STOP')),
      slot('sourcePatientId', token('PID')),
      slot('sourcePatientInfo', `PID-3|${token('PID')}`, `PID-5|${token('NAME')}`, `PID-7|${token('BIRTH')}`, `PID-8|${token('SEX')}`),
      // Added by the repository (ebrim/repository-slots.ts), after the submitted ones.
      slot('hash', token('HASH')),
      slot('size', token('SIZE')),
      slot('repositoryUniqueId', repositoryUniqueId),
    ],
    classifications: [
      authorClassification(next(), DOCUMENT_ENTRY_SCHEME.author, id),
      classification(next(), DOCUMENT_ENTRY_SCHEME.classCode, id, kind.classCode),
      ...v.confidentiality.map((c) => classification(next(), DOCUMENT_ENTRY_SCHEME.confidentialityCode, id, c)),
      ...v.events.map((c) => classification(next(), DOCUMENT_ENTRY_SCHEME.eventCodeList, id, c)),
      classification(next(), DOCUMENT_ENTRY_SCHEME.formatCode, id, kind.formatCode),
      classification(next(), DOCUMENT_ENTRY_SCHEME.healthcareFacilityTypeCode, id, place.facility),
      classification(next(), DOCUMENT_ENTRY_SCHEME.practiceSettingCode, id, place.practice),
      classification(next(), DOCUMENT_ENTRY_SCHEME.typeCode, id, kind.typeCode),
    ],
    externalIdentifiers: [
      externalIdentifier(next(), DOCUMENT_ENTRY_SCHEME.patientId, id, token('PID'), 'XDSDocumentEntry.patientId'),
      externalIdentifier(next(), DOCUMENT_ENTRY_SCHEME.uniqueId, id, token('UID'), 'XDSDocumentEntry.uniqueId'),
    ],
  };
}

function submissionSetRim(): RimObject {
  const id = `urn:uuid:${token('SID')}00`;
  const next = childIds(token('SID'));
  return {
    kind: 'RegistryPackage',
    id,
    objectType: OBJECT_TYPE.registryPackage,
    name: [],
    description: [],
    slots: [slot('submissionTime', token('TIME'))],
    classifications: [
      authorClassification(next(), SUBMISSION_SET_SCHEME.author, id),
      classification(next(), SUBMISSION_SET_SCHEME.contentTypeCode, id, CONTENT_TYPE),
      // Sent as a top-level Classification; the parser folds it into the package after its own.
      { id: next(), classificationNode: CLASSIFICATION_NODE.submissionSet, classifiedObject: id, name: [], description: [], slots: [] },
    ],
    externalIdentifiers: [
      externalIdentifier(next(), SUBMISSION_SET_SCHEME.uniqueId, id, token('SUID'), 'XDSSubmissionSet.uniqueId'),
      externalIdentifier(next(), SUBMISSION_SET_SCHEME.sourceId, id, token('SOURCE'), 'XDSSubmissionSet.sourceId'),
      externalIdentifier(next(), SUBMISSION_SET_SCHEME.patientId, id, token('PID'), 'XDSSubmissionSet.patientId'),
    ],
  };
}

function hasMemberRim(): RimObject {
  return {
    kind: 'Association',
    id: `urn:uuid:${token('ID')}a0`,
    objectType: OBJECT_TYPE.association,
    associationType: ASSOCIATION_TYPE.hasMember,
    sourceObject: `urn:uuid:${token('SID')}00`,
    targetObject: `urn:uuid:${token('ID')}00`,
    name: [],
    description: [],
    slots: [slot('SubmissionSetStatus', 'Original')],
    classifications: [],
    externalIdentifiers: [],
  };
}

export const VARIANT_COUNT = 300;
const PROFESSIONAL_COUNT = 3000;

/** The variants of each kind, in proportion to its weight; flavours and places in turn, DMP confidentiality codes on fixed shares. */
function variantSpecs(): VariantSpec[] {
  const total = DOCUMENT_KINDS.reduce((s, k) => s + k.weight, 0);
  const specs: VariantSpec[] = [];
  for (const kind of DOCUMENT_KINDS) {
    const combos = kind.flavours.flatMap((f) => (f.places ?? kind.places).map((place) => ({ f, place })));
    const count = Math.round((kind.weight * VARIANT_COUNT) / total);
    for (let j = 0; j < count; j++) {
      const { f, place } = combos[j % combos.length]!;
      const n = specs.length;
      specs.push({
        kind,
        title: f.fullTitle ?? (f.title ? `${kind.title} - ${f.title}` : kind.title),
        specialty: f.specialty ?? kind.specialty,
        place,
        confidentiality: [NORMAL, ...DMP_CONFIDENTIALITY.filter((c) => c.shares(n)).map((c) => c.code)],
        events: f.events ?? [],
      });
    }
  }
  return specs;
}

interface Pool {
  specialty: Specialty;
  place: Place;
  start: number;
  size: number;
}

/** Professionals by (specialty, place), each pool sized by the share of the entries it writes; at least 20 per pool. */
function professionals(specs: VariantSpec[]): { pools: Map<string, Pool>; list: Professional[] } {
  const random = seededRandom(0x5eed);
  let serial = 0;
  const next = () => ++serial;
  const institutions = new Map(Object.keys(PLACES).map((p) => [p, institutionsOf(p as Place, random, next)]));
  const shares = new Map<string, { specialty: Specialty; place: Place; n: number }>();
  for (const s of specs) {
    const key = `${s.specialty}:${s.place}`;
    const entry = shares.get(key) ?? { specialty: s.specialty, place: s.place, n: 0 };
    entry.n++;
    shares.set(key, entry);
  }
  const pools = new Map<string, Pool>();
  const list: Professional[] = [];
  for (const [key, { specialty, place, n }] of shares) {
    const size = Math.max(20, Math.round((PROFESSIONAL_COUNT * n) / specs.length));
    pools.set(key, { specialty, place, start: list.length, size });
    for (let j = 0; j < size; j++) {
      const female = random() < 0.5;
      const family = pick(random, FAMILY_NAMES);
      const given = pick(random, female ? FEMALE_NAMES : MALE_NAMES);
      const rppsBody = `10${String(30_000_000 + list.length * 7919).padStart(8, '0')}`;
      const rpps = `${rppsBody}${luhn(rppsBody)}`;
      const institution = place === 'soloPractice' ? institutionNamed(`Cabinet du Dr ${given} ${family}`, next(), list.length) : pick(random, institutions.get(place)!);
      list.push({
        person: `8${rpps}^${family}^${given}^^^^^^&${RPPS_OID}&ISO^D^^^IDNPS`,
        institution: institution.xon,
        role: ROLE_MEDECIN,
        specialty: specialtyValue(specialty),
        sourceId: institution.sourceId,
      });
    }
  }
  return { pools, list };
}

/** Everything a batch needs besides its range: the variants, their codes, the professionals, as one JSON parameter. */
export interface SeedTables {
  variants: Record<string, unknown>[];
  codes: { variant: number; kind: 'event' | 'confidentiality'; code: string; scheme: string }[];
  professionals: { n: number; person: string; institution: string; role: string; specialty: string; source_id: string; body_xml: string; body_json: string; legal_xml: string; legal_json: string }[];
  association_xml: string;
  association_json: string;
}

export function seedTables(repositoryUniqueId: string): SeedTables {
  const specs = variantSpecs();
  const { pools, list } = professionals(specs);
  const set = templates(submissionSetRim(), SUBMISSION_SET_ARGS);
  const association = templates(hasMemberRim(), ASSOCIATION_ARGS);
  const variants = specs.map((v, i) => {
    const doc = templates(documentRim(v, repositoryUniqueId), DOCUMENT_ARGS);
    const pool = pools.get(`${v.specialty}:${v.place}`)!;
    const place = PLACES[v.place];
    const { kind } = v;
    return {
      n: i + 1,
      doc_json: doc.json,
      doc_xml: doc.xml,
      set_json: set.json,
      set_xml: set.xml,
      mime_type: MIME_TYPE,
      class_code: kind.classCode.code,
      class_scheme: kind.classCode.scheme,
      type_code: kind.typeCode.code,
      type_scheme: kind.typeCode.scheme,
      format_code: kind.formatCode.code,
      format_scheme: kind.formatCode.scheme,
      practice_code: place.practice.code,
      practice_scheme: place.practice.scheme,
      facility_code: place.facility.code,
      facility_scheme: place.facility.scheme,
      title: v.title,
      content_type_code: CONTENT_TYPE.code,
      content_type_scheme: CONTENT_TYPE.scheme,
      pool_start: pool.start + 1,
      pool_size: pool.size,
      service_min: kind.serviceMinutes[0],
      service_span: kind.serviceMinutes[1] - kind.serviceMinutes[0] + 1,
      delay_min: kind.delayMinutes[0],
      delay_span: kind.delayMinutes[1] - kind.delayMinutes[0] + 1,
      size_min: kind.sizeKb[0] * 1024,
      size_span: (kind.sizeKb[1] - kind.sizeKb[0]) * 1024 + 1,
    };
  });
  const codes = specs.flatMap((v, i) => [
    ...v.events.map((c) => ({ variant: i + 1, kind: 'event' as const, code: c.code, scheme: c.scheme })),
    ...v.confidentiality.map((c) => ({ variant: i + 1, kind: 'confidentiality' as const, code: c.code, scheme: c.scheme })),
  ]);
  return {
    variants,
    codes,
    professionals: list.map((p, i) => {
      const slots = [slot('authorPerson', p.person), slot('authorInstitution', p.institution), slot('authorRole', p.role), slot('authorSpecialty', p.specialty)];
      return {
        n: i + 1,
        person: p.person,
        institution: p.institution,
        role: p.role,
        specialty: p.specialty,
        source_id: p.sourceId,
        body_xml: slotsXml(slots),
        body_json: JSON.stringify(slots),
        legal_xml: valueXml(p.person),
        legal_json: JSON.stringify(p.person).slice(1, -1),
      };
    }),
    association_xml: association.xml,
    association_json: association.json,
  };
}

// The batch statement.

const formatArgs = (args: Record<string, readonly [string, string]>, form: 0 | 1): string =>
  Object.values(args)
    .map((a) => a[form])
    .join(', ');

/** An unsigned 28-bit number from 7 hex digits of an md5 at `at` (1-based). */
const bits = (md5: string, at: number): string => `('x' || substr(${md5}, ${at}, 7))::bit(28)::int`;

const DTM = `'YYYYMMDDHH24MISS'`;
const TEN_YEARS_DAYS = 3653;

/**
 * One batch: documents $1..$2 of a registry of $3 patients, the tables ($4, JSON: seedTables), the repository
 * id ($5) and the patient name lists ($6 family, $7 female, $8 male, $9 consent channels). Every column is
 * written as insertSubmission (insert.ts) writes it: rim and leaf_xml of each object, the code and author rows
 * of each entry, HasMember from its SubmissionSet. The registry's own times (created_at, committed_at) are the
 * submission time, so that the data does not depend on when it was seeded.
 */
const SEED_SQL = `
with input as materialized (select $4::text::jsonb as j),
variant as materialized (
  select * from jsonb_to_recordset((select j -> 'variants' from input)) as v(n int, doc_json text, doc_xml text, set_json text, set_xml text,
    mime_type text, class_code text, class_scheme text, type_code text, type_scheme text, format_code text, format_scheme text,
    practice_code text, practice_scheme text, facility_code text, facility_scheme text, title text, content_type_code text, content_type_scheme text,
    pool_start int, pool_size int, service_min int, service_span int, delay_min int, delay_span int, size_min int, size_span int)
),
professional as materialized (
  select * from jsonb_to_recordset((select j -> 'professionals' from input)) as a(n int, person text, institution text, role text, specialty text,
    source_id text, body_xml text, body_json text, legal_xml text, legal_json text)
),
variant_code as materialized (select * from jsonb_to_recordset((select j -> 'codes' from input)) as c(variant int, kind text, code text, scheme text)),
numbered as (
  select i, (i - 1) % $3 as p, (i - 1) / $3 as r, md5('r' || i) as m, md5('q' || i) as q
  from generate_series($1::int, $2::int) as g(i)
),
placed as (
  -- A patient's documents go by 1 to 4 into submission sets, the set's time drawn from the number of its first document.
  select n.*, n.r % (1 + (n.p % 7) % 4) as k, (n.r / (1 + (n.p % 7) % 4)) * (1 + (n.p % 7) % 4) * $3 + n.p + 1 as first_i
  from numbered n
),
person as (
  select t.*, 1 + t.p % 2 as sex, 1930 + (t.p::bigint * 7919) % 85 as birth_year, 1 + (t.p::bigint * 31) % 12 as birth_month,
    1 + (t.p::bigint * 17) % 28 as birth_day,
    timestamp '2015-01-01' + make_interval(days => ${bits("md5('t' || t.first_i)", 1)} % ${TEN_YEARS_DAYS},
      secs => 28800 + ${bits("md5('t' || t.first_i)", 8)} % 43200) as submitted
  from placed t
),
nir as (
  select t.*, t.sex * 1000000000000 + (t.birth_year % 100) * 10000000000 + t.birth_month * 100000000 + t.p as nir13 from person t
),
drawn as (
  select t.*, v.n as variant, v.service_min + ${bits('t.m', 15)} % v.service_span as service, v.delay_min + ${bits('t.m', 22)} % v.delay_span as delay,
    v.pool_start + ${bits('t.m', 8)} % v.pool_size as author, v.size_min + ${bits('t.q', 1)} % v.size_span as size,
    -- Created before its set was submitted (the later in the set, the earlier).
    t.submitted - make_interval(mins => 5 + t.k * 7 + ${bits('t.q', 8)} % 55) as created
  from nir t join variant v on v.n = 1 + ${bits('t.m', 1)} % (select count(*) from variant)
),
filled as materialized (
  select t.i, t.p, t.r, t.k, t.variant, t.author, t.size,
    left(md5('e' || t.i)::uuid::text, 34) as e,
    left(md5('s' || t.first_i)::uuid::text, 34) as s,
    '${DOCUMENT_UNIQUE_ID_ROOT}.' || t.i as unique_id,
    '${SUBMISSION_SET_UNIQUE_ID_ROOT}.' || t.first_i as set_unique_id,
    t.nir13 || lpad((97 - t.nir13 % 97)::text, 2, '0') || '^^^&${INS_NIR_OID}&ISO' as pid,
    t.nir13 || lpad((97 - t.nir13 % 97)::text, 2, '0') || '^^^&amp;${INS_NIR_OID}&amp;ISO' as pid_xml,
    ($6::text[])[1 + (t.p * 13) % cardinality($6::text[])] || '^' ||
      case when t.sex = 1 then ($8::text[])[1 + (t.p / 2 * 7) % cardinality($8::text[])] else ($7::text[])[1 + (t.p / 2 * 7) % cardinality($7::text[])] end
      || '^^^^^L' as pid5,
    t.birth_year || lpad(t.birth_month::text, 2, '0') || lpad(t.birth_day::text, 2, '0') as pid7,
    case when t.sex = 1 then 'M' else 'F' end as pid8,
    md5('h' || t.i) || substr(md5('H' || t.i), 1, 8) as hash,
    md5('c' || t.i) || md5('C' || t.i) as content_key,
    -- The act ended delay minutes before the document was created, and lasted service minutes.
    to_char(t.created, ${DTM}) as ct,
    to_char(t.created - make_interval(mins => t.delay + t.service), ${DTM}) as ss,
    to_char(t.created - make_interval(mins => t.delay), ${DTM}) as se,
    to_char(t.created - make_interval(mins => t.delay + t.service), 'DD/MM/YYYY') as title_date,
    to_char(t.submitted, ${DTM}) as st,
    t.submitted at time zone 'UTC' as registered
  from drawn t
),
ins_entries as (
  insert into document_entries (entry_uuid, logical_id, version, unique_id, patient_id, status, object_type, mime_type, hash, size,
    repository_unique_id, content_key, class_code, class_scheme, type_code, type_scheme, format_code, format_scheme,
    practice_setting_code, practice_setting_scheme, healthcare_facility_type_code, healthcare_facility_type_scheme,
    creation_time, service_start_time, service_stop_time, language_code, title, submission_set_uuid, rim, leaf_xml, created_at)
  select 'urn:uuid:' || f.e || '00', 'urn:uuid:' || f.e || '00', 1, f.unique_id, f.pid, '${STATUS.approved}', '${OBJECT_TYPE.stableDocumentEntry}', v.mime_type,
    f.hash, f.size, $5, f.content_key, v.class_code, v.class_scheme, v.type_code, v.type_scheme, v.format_code, v.format_scheme,
    v.practice_code, v.practice_scheme, v.facility_code, v.facility_scheme,
    f.ct, f.ss, f.se, 'fr-FR', v.title || ' du ' || f.title_date, 'urn:uuid:' || f.s || '00',
    format(v.doc_json, ${formatArgs(DOCUMENT_ARGS, 1)})::jsonb,
    format(v.doc_xml, ${formatArgs(DOCUMENT_ARGS, 0)}),
    f.registered
  from filled f join variant v on v.n = f.variant join professional a on a.n = f.author
),
ins_codes as (
  insert into document_entry_codes (entry_uuid, kind, code, scheme)
  select 'urn:uuid:' || f.e || '00', c.kind, c.code, c.scheme from filled f join variant_code c on c.variant = f.variant
),
ins_authors as (
  insert into document_entry_authors (entry_uuid, person, institutions, roles, specialties)
  select 'urn:uuid:' || f.e || '00', a.person, array[a.institution], array[a.role], array[a.specialty] from filled f join professional a on a.n = f.author
),
ins_sets as (
  insert into submission_sets (entry_uuid, unique_id, submission_id, patient_id, source_id, submission_time, content_type_code, content_type_scheme,
    status, rim, leaf_xml, committed_at)
  select 'urn:uuid:' || f.s || '00', f.set_unique_id, 'seed-' || f.s || '00', f.pid, a.source_id, f.st, v.content_type_code, v.content_type_scheme,
    '${STATUS.approved}',
    format(v.set_json, ${formatArgs(SUBMISSION_SET_ARGS, 1)})::jsonb,
    format(v.set_xml, ${formatArgs(SUBMISSION_SET_ARGS, 0)}),
    f.registered
  from filled f join variant v on v.n = f.variant join professional a on a.n = f.author
  where f.k = 0
),
ins_set_authors as (
  insert into submission_set_authors (entry_uuid, person, institutions, roles, specialties)
  select 'urn:uuid:' || f.s || '00', a.person, array[a.institution], array[a.role], array[a.specialty] from filled f join professional a on a.n = f.author
  where f.k = 0
),
ins_members as (
  insert into associations (entry_uuid, association_type, source_uuid, target_uuid, status, submission_set_uuid, rim, leaf_xml, created_at)
  select 'urn:uuid:' || f.e || 'a0', '${ASSOCIATION_TYPE.hasMember}', 'urn:uuid:' || f.s || '00', 'urn:uuid:' || f.e || '00', '${STATUS.approved}',
    'urn:uuid:' || f.s || '00',
    format((select j ->> 'association_json' from input), ${formatArgs(ASSOCIATION_ARGS, 1)})::jsonb,
    format((select j ->> 'association_xml' from input), ${formatArgs(ASSOCIATION_ARGS, 0)}),
    f.registered
  from filled f
),
ins_patients as (
  insert into patients (patient_id, created_at)
  select f.pid, (timestamp '2014-01-01' + make_interval(days => f.p % 180)) at time zone 'UTC' from filled f where f.r = 0
),
ins_records as (
  -- The DMP record of each patient, opened with consent before their first document.
  insert into patient_records (patient_id, status, consent_channel, consent_at)
  select f.pid, 'open', ($9::text[])[1 + f.p % cardinality($9::text[])], (timestamp '2014-01-01' + make_interval(days => f.p % 180)) at time zone 'UTC'
  from filled f where f.r = 0
)
select count(*)::int as entries, count(*) filter (where k = 0)::int as submission_sets, count(*) filter (where r = 0)::int as patients from filled`;


export interface SeedOptions {
  documents: number;
  /** Default: documents / 50, at least 1. */
  patients?: number;
  /** The repositoryUniqueId of every entry (REPOSITORY_UNIQUE_ID of the gateway). */
  repositoryUniqueId?: string;
  batchSize?: number;
  /** Batches written at once, each on its own connection (the Db's pool must have as many). */
  jobs?: number;
  /** Called after each batch with the entries written so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface SeedSummary {
  documents: number;
  patients: number;
  submissionSets: number;
  professionals: number;
  variants: number;
  /** Writing the rows, then VACUUM ANALYZE. */
  seconds: number;
  vacuumSeconds: number;
}

/** The registry already holds documents: a seed adds to an empty registry only (its ids would collide with a previous seed's). */
export class RegistryNotEmptyError extends Error {}

export const defaultPatients = (documents: number): number => Math.max(1, Math.floor(documents / DEFAULT_DOCUMENTS_PER_PATIENT));

const SEEDED_TABLES = ['patients', 'patient_records', 'submission_sets', 'submission_set_authors', 'document_entries', 'document_entry_codes', 'document_entry_authors', 'associations'];

/**
 * Fills a migrated, empty registry with `documents` entries of `patients` patients, batch after batch, then
 * VACUUM ANALYZEs the tables it wrote (as autovacuum leaves a live registry: visibility map set, statistics fresh).
 */
export async function seedRegistry(db: Db, opts: SeedOptions): Promise<SeedSummary> {
  const documents = opts.documents;
  const patients = opts.patients ?? defaultPatients(documents);
  if (!Number.isInteger(documents) || documents < 1 || documents > MAX_DOCUMENTS) throw new RangeError(`documents must be an integer from 1 to ${MAX_DOCUMENTS}`);
  if (!Number.isInteger(patients) || patients < 1 || patients > Math.min(documents, MAX_PATIENTS)) {
    throw new RangeError(`patients must be an integer from 1 to the number of documents (${Math.min(documents, MAX_PATIENTS)})`);
  }
  const [found] = await db.query<{ n: number }>('select count(*)::int as n from (select 1 from document_entries limit 1) x');
  if (found!.n > 0) throw new RegistryNotEmptyError('the registry already holds document entries: seed an empty schema');

  const repositoryUniqueId = opts.repositoryUniqueId ?? DEFAULT_REPOSITORY_UNIQUE_ID;
  const tables = seedTables(repositoryUniqueId);
  const json = JSON.stringify(tables);
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  const ranges: [number, number][] = [];
  for (let from = 1; from <= documents; from += batch) ranges.push([from, Math.min(documents, from + batch - 1)]);
  const start = performance.now();
  let submissionSets = 0;
  let done = 0;
  // Batches are independent (each writes whole submission sets, and the patients of its first documents): several run at once.
  const worker = async (): Promise<void> => {
    for (let range = ranges.shift(); range; range = ranges.shift()) {
      const [from, to] = range;
      const [row] = await db.transaction(async (tx) => {
        // The batch's rows are read by every insert of the statement: kept in memory rather than in a temporary file.
        await tx.exec(`set local work_mem = '256MB'`);
        return tx.query<{ submission_sets: number }>(SEED_SQL, [from, to, patients, json, repositoryUniqueId, PATIENT_FAMILY_NAMES, PATIENT_FEMALE_NAMES, PATIENT_MALE_NAMES, CONSENT_CHANNELS]);
      });
      submissionSets += row!.submission_sets;
      done += to - from + 1;
      opts.onProgress?.(done, documents);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs ?? 1) }, worker));
  const written = performance.now();
  await db.exec(`vacuum analyze ${SEEDED_TABLES.join(', ')}`);
  const end = performance.now();
  return {
    documents,
    patients,
    submissionSets,
    professionals: tables.professionals.length,
    variants: tables.variants.length,
    seconds: (end - start) / 1000,
    vacuumSeconds: (end - written) / 1000,
  };
}
