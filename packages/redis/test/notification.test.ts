import { describe, expect, it } from 'vitest';
import { decodeNotification, encodeBody, readNotificationHeader } from '../src/codec';

/** A notification as the publish script builds it. */
const notification = (first: number, epoch: string, bodies: string[]) => `*${first}:${first + bodies.length - 1}:${epoch}:[${bodies.join(',')}]`;

describe('pub/sub notification (one per publish script call)', () => {
  it('carries every message the call stored, with consecutive offsets, in order', () => {
    const payload = notification(7, 'ep0ch-_x', [encodeBody('a', { n: 1 }), encodeBody('b', 'two:with:colons'), encodeBody('c', null)]);
    expect(readNotificationHeader(payload)).toMatchObject({ first: 7, last: 9, epoch: 'ep0ch-_x' });
    expect(decodeNotification(payload)).toEqual([
      { id: 'a', epoch: 'ep0ch-_x', offset: 7, data: { n: 1 } },
      { id: 'b', epoch: 'ep0ch-_x', offset: 8, data: 'two:with:colons' },
      { id: 'c', epoch: 'ep0ch-_x', offset: 9, data: null },
    ]);
  });

  it('is ignored when malformed, and the format of earlier releases is not mistaken for it', () => {
    for (const payload of [
      `3:ep:${encodeBody('a', 1)}`, // the per-message format of releases before
      '*0:0:ep:[]',
      '*5:4:ep:[]',
      '*x:2:ep:[]',
      '*1:2:ep',
      `*1:2:ep:[${encodeBody('a', 1)}]`, // two offsets, one body
      '*1:1:ep:[not json',
      '*1:1:ep:[5]', // bodies that are not [id, data] (another writer's junk)
      '*1:1:ep:[null]',
      '*1:1:ep:[["x"]]',
      '*1:1:ep:[[7,"data"]]',
    ]) {
      expect(decodeNotification(payload), payload).toBeUndefined(); // the broker then reads the stream instead
    }
  });
});
