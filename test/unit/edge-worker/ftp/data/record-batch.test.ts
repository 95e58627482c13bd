import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordBatch, TLS_STAGE_BYTES } from '../../../../../edge-worker/ftp/data/read-buffer.js';

const RECORD = 16 * 1024;

/**
 * Delivers `records` as net's onStreamRead does with an `onread` buffer function (TLSWrap's ClearOut:
 * each record copied to where the function last pointed, the callback, then the function again),
 * and, as TLSWrap does, goes on after the callback asked to pause.
 */
function deliver(batch: RecordBatch, records: Buffer[], into: { buffer: Buffer }): boolean[] {
  return records.map((record) => {
    const length = Math.min(record.length, into.buffer.length);
    record.copy(into.buffer, 0, 0, length);
    const more = batch.take(length, into.buffer.subarray(0, length));
    into.buffer = batch.nextBuffer();
    return more;
  });
}

describe('RecordBatch (a TLS source read into staging buffers)', () => {
  it('stays within its two stages when a source delivers many records after a pause, every byte in order', () => {
    const batch = new RecordBatch();
    const writes: { bytes: Buffer; stage: number | undefined }[] = [];
    const out: Buffer[] = [];
    batch.write = (bytes, stage) => {
      // The sink keeps the bytes until written (a plain socket's write(2) that could not finish).
      writes.push({ bytes, stage });
      out.push(Buffer.from(bytes));
    };
    // The pump has asked to pause after every record.
    batch.onRecord = () => false;
    const stageMemory = new Set<ArrayBufferLike>();
    const into = { buffer: batch.nextBuffer() };
    stageMemory.add(into.buffer.buffer);
    const records = Array.from({ length: 100 }, (_, i) => randomBytes(i % 7 === 0 ? 1000 + i : RECORD));
    const more = deliver(batch, records.slice(0, 40), into);
    expect(more.every((m) => m === false)).toBe(true);
    // Staged: never past a stage; the stage memory is the same two buffers throughout.
    expect(batch.staged).toBeLessThanOrEqual(TLS_STAGE_BYTES);
    for (const { bytes, stage } of writes) {
      if (stage !== undefined) stageMemory.add(bytes.buffer);
    }
    expect(stageMemory.size).toBeLessThanOrEqual(2);
    // Both stages are on their way and neither was written: the rest go out as records of their own.
    expect(writes.filter((w) => w.stage !== undefined)).toHaveLength(2);
    expect(batch.ready).toBe(false);
    const spilledBefore = batch.spilled;
    expect(spilledBefore).toBeGreaterThan(0);
    deliver(batch, records.slice(40, 60), into);
    expect(batch.spilled).toBe(spilledBefore + 20);
    expect(writes.filter((w) => w.stage !== undefined)).toHaveLength(2);
    // The stages are written: records are staged again, in the same memory.
    batch.written(0);
    batch.written(1);
    into.buffer = batch.nextBuffer();
    deliver(batch, records.slice(60), into);
    expect(batch.staged).toBeLessThanOrEqual(TLS_STAGE_BYTES);
    batch.flush();
    for (const { bytes, stage } of writes) {
      if (stage !== undefined) stageMemory.add(bytes.buffer);
    }
    expect(stageMemory.size).toBe(2);
    expect(Buffer.concat(out).equals(Buffer.concat(records))).toBe(true);
  });

  it('keeps a record that lands where the function pointed before a flush moved the stage on', () => {
    const batch = new RecordBatch();
    const out: Buffer[] = [];
    batch.write = (bytes) => out.push(Buffer.from(bytes));
    batch.onRecord = () => true;
    const into = { buffer: batch.nextBuffer() };
    const first = randomBytes(RECORD);
    const second = randomBytes(5000);
    deliver(batch, [first], into);
    // The end of a turn writes what is staged; the handle still points behind it in that stage.
    batch.flush();
    second.copy(into.buffer);
    batch.take(second.length, into.buffer.subarray(0, second.length));
    expect(batch.staged).toBe(second.length);
    batch.flush();
    expect(Buffer.concat(out).equals(Buffer.concat([first, second]))).toBe(true);
  });
});
