// The request limits (src/manager/limits.ts): the boundaries, and the messages Cinder (volume
// size) and Nova (metadata items) answer with. Where they are checked: volume-commands,
// snapshot-commands and snapshot-metadata tests.
import { describe, expect, it } from 'vitest';
import { Forbidden, OverLimit } from '../../src/manager/errors.js';
import { checkMetadataItems, checkVolumeSize } from '../../src/manager/limits.js';

const limits = { maxVolumeSizeGiB: 1000, maxMetadataItems: 128 };

describe('request limits', () => {
  it('allows a volume of the limit and refuses one GiB more as VolumeSizeExceedsLimit', () => {
    expect(() => checkVolumeSize(1000, limits)).not.toThrow();
    expect(() => checkVolumeSize(1001, limits)).toThrow(new OverLimit('VolumeSizeExceedsLimit: Requested volume size 1001G is larger than maximum allowed limit 1000G.'));
  });

  it('allows the limit of metadata items and refuses one more as Nova does', () => {
    expect(() => checkMetadataItems(128, limits)).not.toThrow();
    expect(() => checkMetadataItems(129, limits)).toThrow(new Forbidden('Maximum number of metadata items exceeds 128'));
  });
});
