"""Registers this service in Keystone's catalog as volumev3 and block-storage (find-or-create).

usage: catalog.py KEYSTONE_URL ADMIN_PASSWORD ENDPOINT_URL REGION

Each run of the harness gets its own region, so several services (one per port) can be in the
catalog at once without replacing each other's endpoints.
"""
import json
import sys
import urllib.error
import urllib.request

ks, admin_pw, url, region = sys.argv[1:5]


def call(method, path, body=None, token=None):
    req = urllib.request.Request(ks + '/v3' + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Auth-Token', token)
    with urllib.request.urlopen(req, timeout=10) as res:
        raw = res.read()
        return res.headers, (json.loads(raw) if raw else None)


headers, _ = call('POST', '/auth/tokens?nocatalog', {'auth': {
    'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'admin', 'domain': {'id': 'default'}, 'password': admin_pw}}},
    'scope': {'project': {'name': 'admin', 'domain': {'id': 'default'}}}}})
token = headers['X-Subject-Token']

try:
    call('POST', '/regions', {'region': {'id': region}}, token)
except urllib.error.HTTPError as e:
    if e.code != 409:
        raise

for kind in ('volumev3', 'block-storage'):
    _, services = call('GET', '/services?type=' + kind, token=token)
    if services['services']:
        sid = services['services'][0]['id']
    else:
        _, created = call('POST', '/services', {'service': {'type': kind, 'name': 'cinderv3' if kind == 'volumev3' else 'cinder'}}, token)
        sid = created['service']['id']
    _, endpoints = call('GET', '/endpoints?service_id=' + sid, token=token)
    for ep in [e for e in endpoints['endpoints'] if e.get('region_id') == region]:
        call('DELETE', '/endpoints/' + ep['id'], token=token)
    for interface in ('public', 'internal', 'admin'):
        call('POST', '/endpoints', {'endpoint': {'service_id': sid, 'interface': interface,
                                                 'url': url, 'region_id': region}}, token)
print('catalog: volumev3 and block-storage in region', region, '->', url)
