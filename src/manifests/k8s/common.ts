// Building blocks shared by the Kubernetes dialect schemas: strict objects that still accept the
// fields a real manifest may carry (listed, then ignored), quantities, label selectors, metadata.
import { z } from 'zod';
import { QUANTITY_SYNTAX, tryParseQuantity } from '../quantity.ts';

/**
 * A strict object: unknown fields are errors (typos like `minReplica` must not pass silently), but
 * the fields in `ignored` — valid Kubernetes fields Tide has no use for locally — are accepted.
 */
export function k8sObject<S extends z.ZodRawShape>(shape: S, ignored: readonly string[] = []) {
  const extra: Record<string, z.ZodOptional<z.ZodUnknown>> = {};
  for (const k of ignored) extra[k] = z.unknown().optional();
  const known = Object.keys(shape).join(',');
  return z.strictObject({ ...shape, ...extra } as S, {
    // The loader turns this into one "unknown field" diagnostic per key, with a suggestion.
    error: (iss) => (iss.code === 'unrecognized_keys' ? `${UNKNOWN_FIELD_MARK}${known}` : iss.input === undefined ? 'required field is missing' : 'must be a mapping (key: value pairs)'),
  });
}

/** Prefix of the message k8sObject gives to unknown-field issues, followed by the known field names. */
export const UNKNOWN_FIELD_MARK = 'unknown field; known: ';

export const INT32_MAX = 2_147_483_647;
const intType = (bits: string) => z.number({ error: (i) => (i.input === undefined ? 'required field is missing' : `expected an integer, got ${describeValue(i.input)}`) })
  .int({ error: (i) => (typeof i.input === 'number' && Number.isInteger(i.input) ? `must be an ${bits} (got ${i.input}, too large to be exact)` : 'must be an integer') });

/** int32 with a friendly message; values outside the int32 range are refused as the API server does. */
export const int32 = () => intType('int32')
  .min(-INT32_MAX - 1, { error: `must fit in an int32 (${-INT32_MAX - 1} to ${INT32_MAX})` })
  .max(INT32_MAX, { error: `must fit in an int32 (${-INT32_MAX - 1} to ${INT32_MAX})` });

/** int64 as far as JSON numbers carry it exactly (|n| < 2^53); larger integers are refused, not rounded. */
export const int64 = () => intType('int64');

/**
 * Longest wait (seconds) Node's timers can hold: setTimeout takes at most 2^31-1 ms and fires at
 * once beyond that. Durations above it are valid Kubernetes values, held to this locally.
 */
export const LOCAL_MAX_SECONDS = Math.floor(INT32_MAX / 1000);

/** "the string \"50%\"", "a mapping", "a list", "boolean true" — for messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string "${v}"`;
  return `${typeof v} ${String(v)}`;
}

/** A quantity as written in YAML: string ("500m", "1Gi") or number (2, 0.5). Kept as written. */
export const quantity = () =>
  z.union([z.string(), z.number()], { error: (i) => (i.input === undefined ? 'required field is missing' : `must be a quantity (${QUANTITY_SYNTAX})`) })
    .superRefine((v, ctx) => {
      if (tryParseQuantity(v) === undefined) ctx.addIssue({ code: 'custom', message: `invalid quantity "${v}"`, params: { allowed: QUANTITY_SYNTAX } });
    });

export const stringMap = () => z.record(z.string(), z.string({ error: 'label and annotation values must be strings (quote numbers and booleans)' }));

export const labelSelectorSchema = k8sObject({
  matchLabels: stringMap().optional(),
  matchExpressions: z.array(k8sObject({
    key: z.string(),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).optional(),
  })).optional(),
});

/** metadata: the fields Tide uses are typed; everything else a user's YAML may have is accepted. */
export const metadataSchema = z.looseObject({
  name: z.string({ error: (i) => (i.input === undefined ? 'required field is missing' : 'must be a string') }).min(1, { error: 'must not be empty' }),
  namespace: z.string().optional(),
  labels: stringMap().optional(),
  annotations: stringMap().optional(),
});

/** Top-level fields every object may carry besides apiVersion/kind/metadata/spec. */
export const topLevelIgnored = ['status'] as const;

/** Kubernetes DNS-1123 label (container names, port names are IANA_SVC_NAME but close enough). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Does `selector` select objects with `labels`? (Kubernetes label-selector semantics.) */
export function selectorMatches(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | Record<string, string> | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  const sel = ('matchLabels' in selector || 'matchExpressions' in selector)
    ? selector as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
    : { matchLabels: selector as Record<string, string> };
  const ml = sel.matchLabels ?? {};
  const me = sel.matchExpressions ?? [];
  if (Object.keys(ml).length === 0 && me.length === 0) return false; // an empty selector selects nothing here
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false;
  for (const e of me) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !vals.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && vals.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
