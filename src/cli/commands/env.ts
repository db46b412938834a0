import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('env')
    .description('print the runtime Tide runs on (Node version, platform)')
    .action(() => {
      console.log(JSON.stringify({ node: process.versions.node, platform: process.platform, arch: process.arch }));
    });
}
