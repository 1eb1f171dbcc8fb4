// The IxyDevice contract (@ixy/testing) for the ixgbe driver on the 82599 model: pairs of
// simulated ports on a fresh cable each, opened through openDevice like an app opens them.
import { describe, it } from 'vitest';
import { Cable } from '@ixy/sim';
import { describeIxyDevice } from '@ixy/testing';
import { freshCable } from './helpers.js';
import '../src/index.js';

const cables: string[] = [];

describeIxyDevice(
  'ixgbe on the 82599 model',
  {
    addresses() {
      const cable = freshCable();
      cables.push(cable);
      return [`sim:${cable}:0`, `sim:${cable}:1`];
    },
    cleanup() {
      for (const c of cables.splice(0)) Cable.remove(c);
    },
  },
  { describe, it },
);
