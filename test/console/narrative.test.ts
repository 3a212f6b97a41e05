import { expect } from 'chai';
import { NarrativeError, renderCdaNarrative, safeHref } from '../../src/console/narrative.js';
import { makeLabResult, newPatientId } from '../support/requests.js';

const cda = (body: string, title = 'Compte rendu'): Buffer =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:x="http://www.w3.org/1999/xhtml"><title>${title}</title>` +
      `<component><structuredBody>${body}</structuredBody></component></ClinicalDocument>`,
  );
const section = (text: string, title = 'Section'): string => `<component><section><title>${title}</title><text>${text}</text></section></component>`;
const render = (body: string, title?: string): string => renderCdaNarrative(cda(body, title)).body.value;

describe('console: CDA narrative renderer', () => {
  it('renders section titles, paragraphs, lists, tables, content styles, br, sub and sup', () => {
    const out = render(
      section(
        '<paragraph>Na<sup>+</sup> H<sub>2</sub>O<br/><content styleCode="Bold Italics">gras</content></paragraph>' +
          '<list listType="ordered"><caption>Étapes</caption><item>un</item><item>deux</item></list>' +
          '<table><caption>Résultats</caption><thead><tr><th>Examen</th></tr></thead><tbody><tr><td colspan="2" rowspan="x">Sodium</td></tr></tbody></table>',
        'Biologie',
      ),
    );
    expect(out).to.include('<h2>Biologie</h2>');
    expect(out).to.include('<p>Na<sup>+</sup> H<sub>2</sub>O<br><span class="sc-bold sc-italics">gras</span></p>');
    expect(out).to.include('<p class="caption">Étapes</p><ol><li>un</li><li>deux</li></ol>');
    expect(out).to.include('<table><caption>Résultats</caption><thead><tr><th>Examen</th></tr></thead><tbody><tr><td colspan="2">Sodium</td></tr></tbody></table>');
  });

  it('nests sub-sections one heading level down, from the level asked for', () => {
    const body = `<component><section><title>A</title><component><section><title>B</title></section></component></section></component>`;
    expect(renderCdaNarrative(cda(body), { headingLevel: 3 }).body.value).to.include('<h3>A</h3><section class="cda-section"><h4>B</h4>');
  });

  it('drops script, iframe, img, style and elements of other namespaces with their content', () => {
    const out = render(
      section(
        '<paragraph>avant<script>alert(1)</script><iframe src="javascript:alert(2)">x</iframe><img src="x" onerror="alert(3)"/>' +
          '<style>body{display:none}</style><x:script>alert(4)</x:script><object data="evil.swf"/>après</paragraph>',
      ),
    );
    expect(out).to.include('<p>avantaprès</p>');
    expect(out).not.to.match(/script|iframe|img|style|object|alert/i);
  });

  it('never copies attributes: event handlers, style, id and unknown styleCodes vanish', () => {
    const out = render(section('<paragraph onclick="alert(1)" style="color:red" ID="p1"><content onerror="alert(2)" styleCode="Bold x&quot; onmouseover=&quot;alert(3)">t</content></paragraph>'));
    expect(out).to.equal('<section class="cda-section"><h2>Section</h2><div class="narrative"><p><span class="sc-bold">t</span></p></div></section>');
  });

  it('keeps http(s) links only, with rel=noopener noreferrer, and keeps the text of any other link', () => {
    const out = render(
      section(
        '<linkHtml href="javascript:alert(1)">js</linkHtml> <linkHtml href=" JaVaScRiPt:alert(2)">js2</linkHtml> <linkHtml href="jav&#x09;ascript:alert(3)">js3</linkHtml>' +
          ' <linkHtml href="data:text/html,&lt;script&gt;alert(4)&lt;/script&gt;">data</linkHtml> <linkHtml href="/relative">rel</linkHtml>' +
          ' <linkHtml href="https://example.org/a?b=1&amp;c=&quot;2&quot;">ok</linkHtml>',
      ),
    );
    expect(out).not.to.match(/javascript|data:|href="\/relative/i);
    expect(out).to.include('<span class="link-dropped">js</span>');
    expect(out).to.include('<span class="link-dropped">data</span>');
    expect(out).to.include('<a href="https://example.org/a?b=1&#38;c=%222%22" rel="noopener noreferrer nofollow" referrerpolicy="no-referrer">ok</a>');
  });

  it('escapes markup written as text, in titles and narrative', () => {
    const out = renderCdaNarrative(cda(section('&lt;img src=x onerror=alert(1)&gt; &amp; <![CDATA[<script>alert(2)</script>]]>', '&lt;b&gt;titre&lt;/b&gt;'), '&lt;script&gt;'));
    expect(out.title).to.equal('<script>');
    expect(out.body.value).to.include('<h2>&#60;b&#62;titre&#60;/b&#62;</h2>');
    expect(out.body.value).to.include('&#60;img src=x onerror=alert(1)&#62; &#38; &#60;script&#62;alert(2)&#60;/script&#62;');
    expect(out.body.value).not.to.match(/<img|<script/);
  });

  it('refuses a document with a DOCTYPE (no entity expansion), malformed XML and non-CDA XML', () => {
    const doctype = Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>');
    expect(() => renderCdaNarrative(doctype)).to.throw(NarrativeError, /DOCTYPE/);
    expect(() => renderCdaNarrative(Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</ClinicalDocument>'))).to.throw(NarrativeError, /well-formed/);
    expect(() => renderCdaNarrative(Buffer.from('<ClinicalDocument><title>x</title></ClinicalDocument>'))).to.throw(NarrativeError, /not a CDA/);
  });

  it('reports a non-XML body instead of rendering it', () => {
    const doc = Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody><text mediaType="application/pdf" representation="B64">JVBERi0=</text></nonXMLBody></component></ClinicalDocument>');
    const out = renderCdaNarrative(doc);
    expect(out.nonXmlBody).to.equal(true);
    expect(out.body.value).to.equal('');
  });

  it('renders a whole generated lab report', () => {
    const out = renderCdaNarrative(makeLabResult(newPatientId()));
    expect(out.title).to.equal("Compte rendu d'examens de biologie médicale");
    expect(out.body.value).to.include('<h2>HÉMATOLOGIE</h2>');
    expect(out.body.value).to.include('<span class="sc-bold">');
  });

  it('accepts only absolute http and https URLs as hrefs', () => {
    expect(safeHref('https://a.example/x')).to.equal('https://a.example/x');
    expect(safeHref('http://a.example')).to.equal('http://a.example/');
    for (const bad of ['javascript:alert(1)', 'vbscript:x', 'data:,x', '//a.example', 'file:///etc/passwd', '', null]) expect(safeHref(bad)).to.equal(undefined);
  });
});
