import { html, type SafeHtml } from './html.js';

export interface FieldSpec {
  id: string;
  label: string;
  value?: string;
  type?: 'text' | 'password' | 'date' | 'search';
  required?: boolean;
  error?: string;
  autocomplete?: string;
  /** Extra description under the label. */
  hint?: string;
  spellcheck?: boolean;
}

const describedBy = (id: string, hint?: string, error?: string): SafeHtml => {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return ids ? html` aria-describedby="${ids}"` : html``;
};

const fieldNotes = (id: string, hint?: string, error?: string): SafeHtml =>
  html`${hint ? html`<span class="hint" id="${id}-hint">${hint}</span>` : ''}${error ? html`<span class="field-error" id="${id}-error">${error}</span>` : ''}`;

/** A labelled input, its hint and error tied to it for assistive technologies. */
export function input(f: FieldSpec): SafeHtml {
  return html`<div class="field${f.error ? ' has-error' : ''}">
    <label for="${f.id}">${f.label}</label>
    ${fieldNotes(f.id, f.hint, f.error)}
    <input id="${f.id}" name="${f.id}" type="${f.type ?? 'text'}" value="${f.value ?? ''}"${f.required ? html` required aria-required="true"` : ''}${f.error ? html` aria-invalid="true"` : ''}${describedBy(f.id, f.hint, f.error)}${f.autocomplete ? html` autocomplete="${f.autocomplete}"` : ''}${f.spellcheck === false ? html` spellcheck="false"` : ''}>
  </div>`;
}

export function textarea(f: FieldSpec & { rows?: number }): SafeHtml {
  return html`<div class="field${f.error ? ' has-error' : ''}">
    <label for="${f.id}">${f.label}</label>
    ${fieldNotes(f.id, f.hint, f.error)}
    <textarea id="${f.id}" name="${f.id}" rows="${f.rows ?? 6}"${f.required ? html` required aria-required="true"` : ''}${f.error ? html` aria-invalid="true"` : ''}${describedBy(f.id, f.hint, f.error)} spellcheck="false">${f.value ?? ''}</textarea>
  </div>`;
}

export function select(f: FieldSpec & { options: { value: string; label: string }[] }): SafeHtml {
  return html`<div class="field${f.error ? ' has-error' : ''}">
    <label for="${f.id}">${f.label}</label>
    ${fieldNotes(f.id, f.hint, f.error)}
    <select id="${f.id}" name="${f.id}"${f.required ? html` required aria-required="true"` : ''}${f.error ? html` aria-invalid="true"` : ''}${describedBy(f.id, f.hint, f.error)}>
      ${f.options.map((o) => html`<option value="${o.value}"${o.value === (f.value ?? '') ? html` selected` : ''}>${o.label}</option>`)}
    </select>
  </div>`;
}
