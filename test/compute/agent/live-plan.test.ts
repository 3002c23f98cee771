// The rebase-vs-commit choice alone, row by row of nova/virt/libvirt/driver.py _volume_snapshot_delete.
import { describe, expect, it } from 'vitest';
import { planDelete } from '../../../src/compute/agent/live.js';
import { statusUpdate } from '../../../src/compute/agent/status-report.js';

describe('planDelete', () => {
  it.each([
    [{ file_to_merge: null, merge_target_file: null }, { kind: 'pull', newBase: null }],
    [{ merge_target_file: null }, { kind: 'pull', newBase: null }],
    [{ file_to_merge: 'volume-v', merge_target_file: null }, { kind: 'pull', newBase: 'volume-v' }],
    [{ file_to_merge: 'volume-v.s1', merge_target_file: 'volume-v' }, { kind: 'commit', top: 'volume-v.s1', base: 'volume-v' }],
  ])('%j -> %j', (files, plan) => {
    expect(planDelete({ type: 'qcow2', volume_id: 'v', ...files })).toEqual(plan);
  });

  it('refuses what libvirt would refuse', () => {
    expect(() => planDelete({ type: 'raw', volume_id: 'v' })).toThrow('Unknown delete_info type raw');
    expect(() => planDelete({ type: 'qcow2', volume_id: 'v', file_to_merge: null, merge_target_file: 'volume-v' })).toThrow(
      'filename cannot be None',
    );
  });
});

describe('statusUpdate', () => {
  it('speaks both dialects', () => {
    expect(statusUpdate('create', true, false)).toEqual({
      status: 'creating',
      progress: '90%',
      compute_snapshot_status: 'complete',
      compute_progress: '100%',
    });
    expect(statusUpdate('delete', false, false)).toEqual({ status: 'error_deleting', compute_snapshot_status: 'error' });
    // nova/volume/cinder.py update_snapshot_status adds progress 90% to every status it sends.
    expect(statusUpdate('delete', true, true)).toEqual({ status: 'deleting', progress: '90%' });
    expect(statusUpdate('create', false, true)).toEqual({ status: 'error', progress: '90%' });
  });
});
