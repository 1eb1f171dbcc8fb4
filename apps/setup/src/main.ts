#!/usr/bin/env node
// ixy-setup: prepares a machine for ixy-ts (the steps that need root).
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { IxyError } from '@ixy/core';
import { intOption, runMain } from '@ixy/cli';
import { PciBus, parsePciAddress } from '@ixy/pci';
import { reserveHugepages, statusLines } from './setup.js';

function lookupUser(name: string): { uid: number; gid: number } {
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(name) };
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new IxyError('ENOUSER', `no user '${name}'`);
  }
}

const program = new Command('ixy-setup')
  .description(
    'Prepares a machine for ixy-ts: reserves hugepages, binds network cards to vfio-pci, shows what is ready.',
  )
  .addHelpText(
    'after',
    `
Examples (as root):
  ixy-setup status                              hugepages and every network card with its driver
  ixy-setup hugepages 512                       reserve 512 x 2 MiB
  ixy-setup vfio 0000:03:00.0 --user alice      bind to vfio-pci; alice may then run ixy without root

Never bind the card you are connected through: ixy takes it away from the kernel.`,
  );

program
  .command('status')
  .description('show hugepages and the network cards with their drivers and IOMMU groups')
  .action(() => {
    for (const line of statusLines(new PciBus())) console.log(line);
  });

program
  .command('hugepages')
  .description('reserve 2 MiB hugepages for DMA memory (as root)')
  .argument('<count>', 'number of 2 MiB pages', intOption(0, 1 << 20))
  .action((count: number) => {
    const got = reserveHugepages(count);
    console.log(
      `hugepages (2 MiB): ${got} reserved${got < count ? ` (asked for ${count}: the kernel found no more)` : ''}`,
    );
    if (got < count) process.exitCode = 1;
  });

program
  .command('vfio')
  .description('bind network cards to vfio-pci (as root), optionally for a user who then runs ixy without root')
  .argument('<address...>', 'PCI addresses')
  .option('--user <name>', "give this user the cards' /dev/vfio/<group> files")
  .action((addresses: string[], opts: { user?: string }) => {
    const bus = new PciBus();
    const owner = opts.user ? lookupUser(opts.user) : undefined;
    for (const a of addresses) {
      const address = parsePciAddress(a);
      const info = bus.info(address);
      if (info.classCode >>> 16 !== 0x02)
        throw new IxyError(
          'ENOTNIC',
          `${address} is not a network card (class ${info.classCode.toString(16).padStart(6, '0')})`,
        );
      const group = bus.bindVfio(address, owner);
      console.log(
        `${address}: bound to vfio-pci, IOMMU group ${group}${owner ? `, /dev/vfio/${group} owned by ${opts.user}` : ''}`,
      );
    }
    if (owner) console.log(`also raise ${opts.user}'s locked-memory limit (ulimit -l) for DMA memory`);
  });

runMain('ixy-setup', async () => {
  program.exitOverride();
  await program.parseAsync();
});
