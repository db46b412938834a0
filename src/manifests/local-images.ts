// tide-local.yaml: how to run a container image on this machine. Manifests written for a cluster
// name images and no command; Tide runs each replica as a local process, so a small file next to
// the manifests maps each image to the command that serves it locally, and the manifests stay
// unchanged (`kubectl apply -f` keeps working on the same files).
//
//   # tide-local.yaml
//   images:
//     ghcr.io/kyryl-opens-ml/app-fastapi:          # any tag; "name:tag" for one tag only
//       command: [sh, -c, "exec .venv/bin/uvicorn server:app --port $PORT"]
//       workingDir: ../../fastapi-server            # relative to this file
//       env: {TTA_SAMPLES: "8"}                     # added where the manifest does not set them
//
// A container that sets `command` or `args` runs that, as written; the mapping is only for
// containers that leave both to the image.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { formatPath, type Diagnostic } from './diagnostics.ts';
import { k8sObject } from './k8s/common.ts';
import type { NormalizedContainer } from './types.ts';
import { parseYamlSource } from './yaml.ts';

export const LOCAL_IMAGES_FILE = 'tide-local.yaml';

const entrySchema = k8sObject({
  command: z.array(z.string({ error: 'must be a string (quote numbers)' })).min(1, { error: 'must have at least one element' }).optional(),
  args: z.array(z.string({ error: 'must be a string (quote numbers)' })).optional(),
  workingDir: z.string().optional(),
  env: z.record(z.string(), z.string({ error: 'env values must be strings (quote numbers and booleans)' })).optional(),
});
const fileSchema = k8sObject({ images: z.record(z.string(), entrySchema) });

export type LocalImage = z.infer<typeof entrySchema>;

export interface LocalImages {
  /** Path of the tide-local.yaml file. */
  file: string;
  images: Record<string, LocalImage>;
}

/** "ghcr.io/x/app:1.2@sha256:…" → "ghcr.io/x/app" (registry ports like "host:5000/x" are kept). */
export function imageRepository(image: string): string {
  let s = image.trim();
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  return colon > slash ? s.slice(0, colon) : s;
}

/** The mapping for `image`: exact reference first, then the repository without tag or digest. */
export function lookupImage(cfg: LocalImages | undefined, image: string | undefined): { key: string; entry: LocalImage } | undefined {
  if (!cfg || !image) return undefined;
  for (const key of [image.trim(), imageRepository(image)]) {
    const entry = Object.prototype.hasOwnProperty.call(cfg.images, key) ? cfg.images[key] : undefined;
    if (entry) return { key, entry };
  }
  return undefined;
}

/** Read a tide-local.yaml; problems are positioned diagnostics. */
export function readLocalImages(file: string): { config?: LocalImages; diagnostics: Diagnostic[] } {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    return { diagnostics: [{ severity: 'error', file, line: 0, col: 0, path: '', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` }] };
  }
  const parsed = parseYamlSource(file, text);
  if (parsed.diagnostics.length) return { diagnostics: parsed.diagnostics };
  const doc = parsed.docs[0];
  if (!doc) return { config: { file, images: {} }, diagnostics: [] };
  const r = fileSchema.safeParse(doc.value);
  if (!r.success) {
    return {
      diagnostics: r.error.issues.map((iss) => {
        const path = iss.path as (string | number)[];
        const p = doc.locate(path);
        const msg = iss.code === 'unrecognized_keys' ? `unknown field(s) ${iss.keys.map((k) => `"${k}"`).join(', ')} (known: images; per image: command, args, workingDir, env)` : iss.message;
        return { severity: 'error' as const, file, line: p.line, col: p.col, path: formatPath(path), message: msg };
      }),
    };
  }
  const diagnostics: Diagnostic[] = [];
  for (const [key, e] of Object.entries(r.data.images)) {
    if (!e.command && !e.args) {
      const p = doc.locate(['images', key]);
      diagnostics.push({ severity: 'error', file, line: p.line, col: p.col, path: `images.${key}`, message: 'needs a command (and/or args)', allowed: 'the command that serves the image on $PORT' });
    }
  }
  return { config: { file, images: r.data.images }, diagnostics };
}

/** The tide-local.yaml in `dir`, if there is one (cached per directory by the caller). */
export function findLocalImages(dir: string): string | undefined {
  const f = join(dir, LOCAL_IMAGES_FILE);
  return existsSync(f) ? f : undefined;
}

/**
 * Fill a container that leaves its command to the image from the mapping. Returns what was used
 * (for messages), or undefined when nothing applied.
 */
export function applyLocalImage(c: NormalizedContainer, cfg: LocalImages | undefined): string | undefined {
  if ((c.command && c.command.length) || (c.args && c.args.length)) return undefined;
  const hit = lookupImage(cfg, c.image);
  if (!hit || !cfg) return undefined;
  const e = hit.entry;
  if (e.command) c.command = [...e.command];
  if (e.args) c.args = [...e.args];
  if (e.workingDir !== undefined && c.workingDir === undefined) c.workingDir = resolve(dirname(cfg.file), e.workingDir);
  else if (c.workingDir === undefined) c.workingDir = dirname(resolve(cfg.file));
  for (const [name, value] of Object.entries(e.env ?? {})) if (!c.env.some((v) => v.name === name)) c.env.push({ name, value, from: LOCAL_IMAGES_FILE });
  c.localCommandFrom = `${cfg.file}: images["${hit.key}"]`;
  return c.localCommandFrom;
}

/** What to add for an image that is not mapped: a one-line YAML snippet that can be pasted. */
export function missingImageHint(image: string | undefined, manifestFile: string, cfg: LocalImages | undefined): string {
  const where = cfg ? cfg.file : join(dirname(manifestFile), LOCAL_IMAGES_FILE);
  const r = relative(process.cwd(), where);
  const rel = r && !r.startsWith('..') ? r : where;
  if (!image) return 'set command (and args) on the container: Tide runs each replica as a local process';
  const key = imageRepository(image);
  const snippet = `images: {${JSON.stringify(key)}: {command: [sh, -c, "exec <what the image runs> --port $PORT"], workingDir: <folder, relative to ${LOCAL_IMAGES_FILE}>}}`;
  return `${cfg ? `add it under images: in ${rel}` : `create ${rel}`} — ${snippet} — or set command/args on the container; see docs/local-images.md`;
}
