#!/usr/bin/env node
// Tide runs its TypeScript sources directly: Node 24 strips types natively, so there is no build step.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`tide: Node ${process.versions.node} is too old; Tide needs Node >= 24. ` +
    `Run it through npm (npx tide / npm run tide), which uses the Node 24 installed by 'npm install'.`);
  process.exit(1);
}
await import('../src/cli/main.ts');
