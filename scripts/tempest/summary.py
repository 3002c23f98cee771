"""Counts a Tempest subunit stream by module: passed, failed, skipped (with the skip reasons).

usage: summary.py FILE.subunit [OUT.json]

With OUT.json it also writes the counts, the failed tests and the skipped ones with their reasons
as JSON, for test/conformance/tempest.test.ts.
"""
import collections
import json
import sys

import subunit
import testtools

results = collections.defaultdict(lambda: collections.Counter())
failed, skipped = [], []


class Collect(testtools.StreamResult):
    def status(self, test_id=None, test_status=None, file_name=None, file_bytes=None, **kw):
        if not test_id or test_status not in ('success', 'fail', 'skip'):
            if test_id and file_name == 'reason' and file_bytes:
                reasons[test_id] = reasons.get(test_id, b'') + file_bytes
            return
        # "setUpClass (tempest.api.volume.x.test_y.Class)" counts for its module, like its tests.
        name = test_id.split('[')[0]
        if ' (' in name:
            name = name.split(' (', 1)[1].rstrip(')') + '.fixture'
        module = '.'.join(name.split('.')[:-2])
        results[module][test_status] += 1
        if test_status == 'fail':
            failed.append(test_id)
        if test_status == 'skip':
            skipped.append(test_id)


reasons = {}
with open(sys.argv[1], 'rb') as f:
    stream = subunit.ByteStreamToStreamResult(f, non_subunit_name='stdout')
    collect = Collect()
    stream.run(collect)

total = collections.Counter()
print(f"{'module':70} {'pass':>5} {'fail':>5} {'skip':>5}")
for module in sorted(results):
    c = results[module]
    total.update(c)
    print(f"{module:70} {c['success']:5} {c['fail']:5} {c['skip']:5}")
print(f"{'TOTAL':70} {total['success']:5} {total['fail']:5} {total['skip']:5}")
for t in failed:
    print('FAIL', t)
for t in skipped:
    print('SKIP', t, '--', reasons.get(t, b'').decode(errors='replace').strip())

if len(sys.argv) > 2:
    with open(sys.argv[2], 'w') as out:
        json.dump({
            'modules': {m: {'pass': c['success'], 'fail': c['fail'], 'skip': c['skip']} for m, c in sorted(results.items())},
            'total': {'pass': total['success'], 'fail': total['fail'], 'skip': total['skip']},
            'failed': failed,
            'skipped': [{'id': t, 'reason': reasons.get(t, b'').decode(errors='replace').strip()} for t in skipped],
        }, out, indent=1)
