"""Drives a running service with Debian's python3-cinderclient, the way Nova and users do.

Run under /usr/bin/python3 (Debian's OpenStack packages live there):

    /usr/bin/python3 test/api/cinderclient_flow.py http://127.0.0.1:<port>/v3

Auth is cinderclient's own noauth plugin (cinderclient.contrib.noauth, registered as the
keystoneauth1 plugin "noauth"): it sends "X-Auth-Token: <user>:<project>" and uses
"<endpoint>/<project>" as the service URL, which is what the shell does with OS_AUTH_TYPE=noauth.

The script and cinderclient.test.ts synchronise over stdio instead of polling: the script prints
"WAIT <snapshot id> <event>" and blocks on stdin until the test answers "OK" (the test has seen
the server announce that event: compute.create, compute.delete or a phase such as available).
Every check is an assert; any failure exits non-zero. The last stdout line is a JSON summary.
"""
import json
import sys

from cinderclient import client, exceptions
from cinderclient.contrib.noauth import CinderNoAuthPlugin
from keystoneauth1 import session

ENDPOINT = sys.argv[1]
PROJECT = 'demo'
INSTANCE = '11111111-2222-3333-4444-555555555555'
PROGRESS = 'os-extended-snapshot-attributes:progress'
OWNER = 'os-extended-snapshot-attributes:project_id'


def wait_for(resource_id, event):
    """Blocks until the server announced `event` for a snapshot or volume (a phase, or a compute request)."""
    print('WAIT %s %s' % (resource_id, event), flush=True)
    answer = sys.stdin.readline().strip()
    assert answer == 'OK', 'test harness answered %r to WAIT %s %s' % (answer, resource_id, event)


def make_client(version):
    auth = CinderNoAuthPlugin(user_id='nova', project_id=PROJECT, endpoint=ENDPOINT)
    return client.Client(version, session=session.Session(auth=auth))


def expect_bad_request(call, message):
    try:
        call()
    except exceptions.BadRequest as e:
        assert e.code == 400, e.code
        assert message in str(e), 'expected %r in %r' % (message, str(e))
        return
    raise AssertionError('expected 400 %r' % message)


def delete_assisted(cinder, snapshot_id, force=False):
    """Delete a snapshot of an attached volume: compute merges, then calls back as Nova does."""
    cinder.volume_snapshots.delete(snapshot_id, force=force)
    assert cinder.volume_snapshots.get(snapshot_id).status == 'deleting'
    wait_for(snapshot_id, 'compute.delete')
    cinder.volume_snapshots.update_snapshot_status(snapshot_id, {'status': 'deleting', 'progress': '90%'})
    wait_for(snapshot_id, 'deleted')
    try:
        cinder.volume_snapshots.get(snapshot_id)
    except exceptions.NotFound:
        return
    raise AssertionError('snapshot %s still there after delete' % snapshot_id)


def main():
    cinder = make_client('3')
    statuses = []

    # A volume, attached the legacy way Nova does it: reserve, initialize_connection, attach.
    volume = cinder.volumes.create(size=1, name='cc-vol')
    # Asynchronous, as Cinder's: creating until the driver made it.
    assert volume.status == 'creating', volume.status
    wait_for(volume.id, 'available')
    cinder.volumes.reserve(volume)
    assert cinder.volumes.get(volume.id).status == 'attaching'
    info = cinder.volumes.initialize_connection(volume, {'host': 'compute-1', 'initiator': 'iqn.1994-05.com.example:compute-1'})
    assert 'driver_volume_type' in info, info
    cinder.volumes.attach(volume, INSTANCE, '/dev/vdb', mode='rw')
    volume = cinder.volumes.get(volume.id)
    assert volume.status == 'in-use', volume.status
    assert [a['server_id'] for a in volume.attachments] == [INSTANCE], volume.attachments

    # Before 3.66 an in-use volume needs force=True.
    expect_bad_request(lambda: cinder.volume_snapshots.create(volume.id, name='no-force'), 'is in-use')
    snap = cinder.volume_snapshots.create(volume.id, force=True, name='cc-snap', description='from cinderclient')
    assert snap.status == 'creating', snap.status
    assert getattr(snap, OWNER) == PROJECT
    statuses.append(snap.status)

    # Compute was asked; now the callback exactly as Nova sends it ("my part is done").
    wait_for(snap.id, 'compute.create')
    shown = cinder.volume_snapshots.get(snap.id)
    assert shown.status == 'creating', shown.status
    cinder.volume_snapshots.update_snapshot_status(snap.id, {'status': 'creating', 'progress': '90%'})
    wait_for(snap.id, 'available')
    shown = cinder.volume_snapshots.get(snap.id)
    assert (shown.status, getattr(shown, PROGRESS), shown.name) == ('available', '100%', 'cc-snap'), shown._info
    statuses.append(shown.status)
    assert snap.id in [s.id for s in cinder.volume_snapshots.list()]

    # Nova's duplicate of the callback is refused with Cinder's message.
    expect_bad_request(
        lambda: cinder.volume_snapshots.update_snapshot_status(snap.id, {'status': 'creating', 'progress': '90%'}),
        'Snapshot status available not allowed for update_snapshot_status',
    )

    # 3.66: no force needed for an in-use volume; force=False is refused by the client itself.
    cinder366 = make_client('3.66')
    snap2 = cinder366.volume_snapshots.create(volume.id, name='cc-snap-366')
    assert snap2.status == 'creating', snap2.status
    wait_for(snap2.id, 'compute.create')
    # Admin actions: reset the waiting snapshot, then force-delete it.
    cinder.volume_snapshots.reset_state(snap2, 'error')
    assert cinder.volume_snapshots.get(snap2.id).status == 'error'
    delete_assisted(cinder, snap2.id, force=True)

    delete_assisted(cinder, snap.id)
    statuses.append('deleted')

    # Detach and delete the volume.
    cinder.volumes.begin_detaching(volume)
    cinder.volumes.detach(volume)
    assert cinder.volumes.get(volume.id).status == 'available'
    cinder.volumes.delete(volume)
    wait_for(volume.id, 'deleted')
    try:
        cinder.volumes.get(volume.id)
        raise AssertionError('volume still there')
    except exceptions.NotFound:
        pass

    print(json.dumps({'result': 'ok', 'volume': volume.id, 'snapshot': snap.id, 'snapshot_366': snap2.id, 'statuses': statuses}), flush=True)


if __name__ == '__main__':
    main()
