// A host as a URL carries it: IPv6 literals bracketed, names and IPv4 addresses as they are.
import { describe, expect, it } from 'vitest';
import { urlHost } from '../../src/lib/url-host.js';

describe('urlHost', () => {
  it('brackets IPv6 literals only', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('fe80::1')).toBe('[fe80::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('compute.example')).toBe('compute.example');
    expect(new URL(`http://${urlHost('::1')}:8774/v2.1`).port).toBe('8774');
  });
});
