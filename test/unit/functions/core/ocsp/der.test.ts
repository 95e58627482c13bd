import { describe, expect, it } from 'vitest';
import {
  children,
  contextTag,
  DerError,
  decode,
  encode,
  enumerated,
  explicit,
  octetString,
  oid,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  TAG,
  unsignedInteger,
} from '../../../../../functions/core/ocsp/der.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('DER', () => {
  it('encodes and reads object identifiers (X.690 8.19)', () => {
    expect(oid('1.2.840.113549').toString('hex')).toBe('06062a864886f70d');
    expect(oid('1.3.6.1.5.5.7.48.1.2').toString('hex')).toBe('06092b0601050507300102');
    expect(oid('2.999.3').toString('hex')).toBe('0603883703');
    for (const dotted of [
      '1.3.14.3.2.26',
      '2.16.840.1.101.3.4.2.1',
      '2.999.3',
      '0.9.2342.19200300.100.1.1',
    ]) {
      expect(readOid(decode(oid(dotted)))).toBe(dotted);
    }
    expect(() => oid('3.1')).toThrow(DerError);
    expect(() => readOid(decode(hex('0602 2a86')))).toThrow(/ends inside an arc/);
  });

  it('uses the short length form below 128 bytes and the shortest long form above', () => {
    expect(encode(TAG.OCTET_STRING, Buffer.alloc(127)).subarray(0, 2).toString('hex')).toBe('047f');
    expect(encode(TAG.OCTET_STRING, Buffer.alloc(128)).subarray(0, 3).toString('hex')).toBe('048180');
    expect(encode(TAG.OCTET_STRING, Buffer.alloc(300)).subarray(0, 4).toString('hex')).toBe('0482012c');
    const big = octetString(Buffer.alloc(70_000, 7));
    expect(decode(big).content.length).toBe(70_000);
  });

  it('refuses what is not DER: indefinite or padded lengths, truncation, trailing bytes', () => {
    expect(() => decode(hex('3080 0000'))).toThrow(/indefinite/);
    expect(() => decode(hex('048105 0102030405'))).toThrow(/shortest form/);
    expect(() => decode(hex('04820005 0102030405'))).toThrow(/shortest form/);
    expect(() => decode(hex('0405 0102'))).toThrow(/runs past the end/);
    expect(() => decode(hex('0401 01 00'))).toThrow(/trailing/);
    expect(() => decode(hex('1f01 00'))).toThrow(/multi-byte tags/);
    expect(() => decode(Buffer.alloc(0))).toThrow(/expected a tag/);
  });

  it('writes unsigned integers with a leading zero only when the top bit is set', () => {
    expect(unsignedInteger(hex('00 00 7f')).toString('hex')).toBe('02017f');
    expect(unsignedInteger(hex('80')).toString('hex')).toBe('02020080');
    expect(unsignedInteger(Buffer.alloc(0)).toString('hex')).toBe('020100');
    expect(readSmallInteger(decode(enumerated(3)))).toBe(3);
    expect(readSmallInteger(decode(hex('0201ff')))).toBe(-1);
  });

  it('reads GeneralizedTime and UTCTime', () => {
    expect(readTime(decode(encode(TAG.GENERALIZED_TIME, Buffer.from('20261121083000Z'))))).toBe(
      Date.UTC(2026, 10, 21, 8, 30),
    );
    expect(readTime(decode(encode(TAG.GENERALIZED_TIME, Buffer.from('20261121083000.5Z'))))).toBe(
      Date.UTC(2026, 10, 21, 8, 30, 0, 500),
    );
    expect(readTime(decode(encode(TAG.UTC_TIME, Buffer.from('491231235959Z'))))).toBe(
      Date.UTC(2049, 11, 31, 23, 59, 59),
    );
    expect(readTime(decode(encode(TAG.UTC_TIME, Buffer.from('500101000000Z'))))).toBe(Date.UTC(1950, 0, 1));
    expect(() => readTime(decode(encode(TAG.GENERALIZED_TIME, Buffer.from('2026112108Z'))))).toThrow(
      /malformed/,
    );
  });

  it('walks constructed elements and explicit tags', () => {
    const value = sequence(oid('1.2.3'), explicit(2, sequence(octetString(hex('0102')))));
    const [first, second] = children(decode(value));
    expect(readOid(first as never)).toBe('1.2.3');
    expect(second?.tag).toBe(contextTag(2, true));
    expect(() => children(decode(octetString(hex('01'))))).toThrow(/not constructed/);
  });
});
