import { describe, expect, it } from 'vitest';
import { DedupeWindow } from '../src/broker/dedupe';

const entry = (offset: number, at: number) => ({ epoch: 'e', offset, at });

describe('DedupeWindow', () => {
  it('evicts the oldest ids by count, in insertion order, across many compactions', () => {
    const w = new DedupeWindow(60_000, 100);
    for (let i = 0; i < 10_000; i++) w.add(`id${i}`, entry(i, 0));
    expect(w.size).toBe(100);
    expect(w.get('id9899', 0)).toBeUndefined();
    expect(w.get('id9900', 0)).toEqual(entry(9900, 0));
    expect(w.get('id9999', 0)).toEqual(entry(9999, 0));
  });

  it('prunes by time from the front and stops at the first id still inside the window', () => {
    const w = new DedupeWindow(1000, 10_000);
    for (let i = 0; i < 3000; i++) w.add(`id${i}`, entry(i, i));
    expect(w.get('id0', 1000)).toEqual(entry(0, 0)); // exactly at the edge: kept
    expect(w.get('id0', 2500)).toBeUndefined();
    expect(w.size).toBe(1500); // ids 1500…2999
    expect(w.get('id1500', 2500)).toEqual(entry(1500, 1500));
    w.prune(10_000);
    expect(w.size).toBe(0);
    w.add('again', entry(1, 10_000)); // usable after being emptied
    expect(w.get('again', 10_000)).toEqual(entry(1, 10_000));
  });

  it('re-adding a known id updates it in place, like Map.set', () => {
    const w = new DedupeWindow(60_000, 2);
    w.add('a', entry(1, 0));
    w.add('b', entry(2, 0));
    w.add('a', entry(3, 0));
    w.add('c', entry(4, 0)); // evicts the oldest insertion: a
    expect(w.get('a', 0)).toBeUndefined();
    expect(w.get('b', 0)).toEqual(entry(2, 0));
    expect(w.size).toBe(2);
  });

  it('size 0 remembers nothing', () => {
    const w = new DedupeWindow(60_000, 0);
    w.add('a', entry(1, 0));
    expect(w.get('a', 0)).toBeUndefined();
  });
});
