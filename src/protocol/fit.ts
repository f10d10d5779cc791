/**
 * Makes a value fit a protocol schema's bounds instead of failing it: strings longer than their
 * `max` are cut with an ellipsis, arrays longer than their `max` are cut, numbers are clamped to
 * their bounds (non-finite ones dropped when optional). Read from the schema itself, so every
 * bounded field is covered, including ones added later. The host fits what it sends and what it
 * loads from disk; the webview fits what it receives before validating it.
 */
import type { z } from 'zod';

const ELLIPSIS = '…';

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string; maximum?: number } } }[];
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function arrayMax(def: Def): number | undefined {
  let max: number | undefined;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'max_length' && typeof d.maximum === 'number') max = Math.min(max ?? Infinity, d.maximum);
  }
  return max;
}

/** A string cut to `max` characters with an ellipsis (never splitting a surrogate pair). */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let cut = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

/** `value` fitted to `schema`'s length and range bounds; what does not match the schema's shape is left for validation to reject. */
export function fitToSchema(schema: z.ZodType, value: unknown): unknown {
  const def = defOf(schema);
  switch (def.type) {
    case 'string': {
      const max = (schema as unknown as { maxLength: number | null }).maxLength;
      return typeof value === 'string' && typeof max === 'number' ? truncate(value, max) : value;
    }
    case 'number': {
      if (typeof value !== 'number') return value;
      const n = schema as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
      if (!Number.isFinite(value)) return Number.isNaN(value) ? value : value > 0 ? (n.maxValue ?? value) : (n.minValue ?? value);
      let v = n.isInt ? Math.round(value) : value;
      if (typeof n.minValue === 'number' && v < n.minValue) v = n.minValue;
      if (typeof n.maxValue === 'number' && v > n.maxValue) v = n.maxValue;
      return v;
    }
    case 'array': {
      if (!Array.isArray(value)) return value;
      const max = arrayMax(def);
      const items = typeof max === 'number' && value.length > max ? value.slice(0, max) : value;
      return items.map((v) => fitToSchema(def.element!, v));
    }
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [k, field] of Object.entries(def.shape ?? {})) {
        if (!(k in out)) continue;
        const fitted = fitToSchema(field, out[k]);
        // A number that cannot be made valid (NaN) in an optional field: drop the field.
        if (typeof fitted === 'number' && Number.isNaN(fitted) && defOf(field).type === 'optional') delete out[k];
        else out[k] = fitted;
      }
      return out;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
      return value === undefined || value === null ? value : fitToSchema(def.innerType!, value);
    case 'pipe':
      return fitToSchema(def.in!, value);
    case 'union': {
      // A discriminated union: the option its tag names, fitted even if something else is still wrong.
      if (def.discriminator && value && typeof value === 'object') {
        const tag = (value as Record<string, unknown>)[def.discriminator];
        const option = def.options?.find((o) => (defOf(defOf(o).shape?.[def.discriminator!] ?? o).values ?? []).includes(tag));
        if (option) return fitToSchema(option, value);
      }
      // Otherwise the first option the fitted value satisfies.
      for (const option of def.options ?? []) {
        const fitted = fitToSchema(option, value);
        if (option.safeParse(fitted).success) return fitted;
      }
      return value;
    }
    default:
      return value;
  }
}

/**
 * Parses a list item by item: items that fit the schema (after fitting) are kept, the others are
 * dropped and described, so one bad item never costs the rest.
 */
export function parseEach<T>(schema: z.ZodType<T>, items: unknown, describe: (i: number, error: string) => string = (i, e) => `item ${i}: ${e}`): { items: T[]; dropped: string[] } {
  const out: T[] = [];
  const dropped: string[] = [];
  if (!Array.isArray(items)) return { items: out, dropped: items === undefined ? [] : ['not a list'] };
  items.forEach((item, i) => {
    const r = schema.safeParse(fitToSchema(schema, item));
    if (r.success) out.push(r.data);
    else dropped.push(describe(i, r.error.issues.slice(0, 2).map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')));
  });
  return { items: out, dropped };
}
