// `tide validate FILE…`: what `kubectl apply --dry-run=client` plus kubeconform would say, and
// whether `tide up` can run the files: every error and warning at once, exit status 1 on errors,
// no process started and no daemon contacted.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { formatDiagnostic, ManifestError, sortDiagnostics, type Diagnostic } from '../../manifests/diagnostics.ts';
import { loadManifestsLenient } from '../../manifests/load.ts';
import type { NormalizedContainer, NormalizedDeployment } from '../../manifests/types.ts';

interface Flags { local: boolean; output: string }

/** Relative to the current folder when inside it, else as is. */
function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

function localCommandLine(c: NormalizedContainer): string {
  return [...(c.command ?? []), ...(c.args ?? [])].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check manifest files as `kubectl apply --dry-run=client` + kubeconform would, and whether `tide up` can run them; prints every error and warning, exit status 1 on errors; starts nothing')
    .argument('<files...>', 'manifest files (Deployment, Service, HorizontalPodAutoscaler, InferenceService, Knative Service, ScaledObject)')
    .option('--no-local', 'check the manifests only, not what `tide up` needs (a local command for each image, scale targets in the files)')
    .option('-o, --output <format>', 'text, or json (the diagnostics as a list)', 'text')
    .addHelpText('after', '\nImages run locally through tide-local.yaml next to the manifests (docs/local-images.md).')
    .action((files: string[], flags: Flags) => {
      const local = flags.local !== false;
      const r = loadManifestsLenient(files, { runnable: local, requireTargets: local });
      const diagnostics: Diagnostic[] = [...r.diagnostics];
      if (local) {
        // what `tide up` would not serve: a Service that selects no workload (or several)
        for (const s of r.bundle.services) {
          try { r.bundle.workloadForService(s); } catch (e) {
            if (!(e instanceof ManifestError)) throw e;
            for (const d of e.diagnostics) diagnostics.push({ ...d, severity: 'warning', message: `${d.message}: tide up will not serve Service ${s.name}` });
          }
        }
      }
      const sorted = sortDiagnostics(diagnostics);
      const errors = sorted.filter((d) => d.severity === 'error');
      const warnings = sorted.filter((d) => d.severity === 'warning');
      if (flags.output === 'json') {
        process.stdout.write(`${JSON.stringify({ valid: errors.length === 0, objects: r.bundle.documents.map((d) => ({ apiVersion: d.apiVersion, kind: d.kind, name: d.name, ...(d.namespace ? { namespace: d.namespace } : {}), file: d.file, line: d.line })), diagnostics: sorted }, null, 2)}\n`);
      } else {
        for (const d of sorted) process.stdout.write(`${formatDiagnostic(d)}\n`);
        if (local) {
          for (const d of r.bundle.documents) {
            const dep = (d.kind === 'Deployment' ? d.normalized : (d.normalized as { deployment?: NormalizedDeployment })?.deployment) as NormalizedDeployment | undefined;
            const c = dep?.containers?.[0];
            if (c?.localCommandFrom) process.stdout.write(`${d.kind} ${d.name}: runs \`${localCommandLine(c)}\`${c.workingDir ? ` in ${shortPath(c.workingDir)}` : ''} (${c.localCommandFrom.replace(/^[^:]+/, shortPath)})\n`);
          }
        }
        const objs = r.bundle.documents.length;
        const counts = `${errors.length} error(s), ${warnings.length} warning(s)`;
        process.stdout.write(errors.length
          ? `invalid: ${counts} in ${files.length} file(s)\n`
          : `valid: ${objs} object(s) in ${files.length} file(s)${warnings.length ? `, ${warnings.length} warning(s)` : ''}${local ? '' : ' (--no-local: not checked for tide up)'}\n`);
      }
      if (errors.length) process.exitCode = 1;
    });
}
