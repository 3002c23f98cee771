// The request limits (src/manager/limits.ts): the boundaries, and the message Nova (metadata
// items) answers with. Where they are checked: snapshot-commands and snapshot-metadata tests; the
// volume size (per_volume_gigabytes) is a quota: quotas.test.ts.
import { describe, expect, it } from 'vitest';
import { defaultLimits } from '../../src/config.js';
import { Forbidden } from '../../src/manager/errors.js';
import { checkMetadataItems } from '../../src/manager/limits.js';

const limits = { ...defaultLimits, maxMetadataItems: 128 };

describe('request limits', () => {
  it('allows the limit of metadata items and refuses one more as Nova does', () => {
    expect(() => checkMetadataItems(128, limits)).not.toThrow();
    expect(() => checkMetadataItems(129, limits)).toThrow(new Forbidden('Maximum number of metadata items exceeds 128'));
  });
});
