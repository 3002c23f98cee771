// QoS specs over HTTP (src/api/routes/qos-specs.ts): create, show, list, set and unset keys,
// associations with volume types, delete (forced or not), with Cinder's views, links and
// refusals. Real createApp over SQLite and PostgreSQL, noauth (admins), default policy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../../support/databases.js';
import { apiFixture, expectFault, MISSING, P, type ApiFixture } from '../helpers.js';

describe.each(providers)('REST API on %s: QoS specs', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const createQos = async (qos: Record<string, unknown>) => {
    const r = await f.call('POST', `${P}/qos-specs`, { body: { qos_specs: qos } });
    expect(r.status, r.text).toBe(200);
    return r.json as { qos_specs: { id: string; name: string; consumer: string; specs: Record<string, string> }; links: unknown[] };
  };
  const createType = async (name: string) => (await f.call('POST', `${P}/types`, { body: { volume_type: { name } } })).json.volume_type.id as string;

  it('creates, shows, lists, sets and unsets keys', async () => {
    const created = await createQos({ name: ' limits ', read_iops_sec: '2000' });
    const id = created.qos_specs.id;
    // The name trimmed, back-end by default, every other key a spec; Cinder's self and bookmark links.
    expect(created).toEqual({
      qos_specs: { id, name: 'limits', consumer: 'back-end', specs: { read_iops_sec: '2000' } },
      links: [
        { rel: 'self', href: `http://localhost${P}/qos-specs/${id}` },
        { rel: 'bookmark', href: `http://localhost/proj/qos-specs/${id}` },
      ],
    });
    expect((await f.call('GET', `${P}/qos-specs/${id}`)).json).toEqual(created);
    expect((await f.call('GET', `${P}/qos-specs`)).json).toEqual({ qos_specs: [created.qos_specs] });

    const set = await f.call('PUT', `${P}/qos-specs/${id}`, { body: { qos_specs: { iops_bytes: '500', consumer: 'both' } } });
    expect([set.status, set.json]).toEqual([200, { qos_specs: { iops_bytes: '500', consumer: 'both' } }]);
    expect((await f.call('GET', `${P}/qos-specs/${id}`)).json.qos_specs).toMatchObject({ consumer: 'both', specs: { read_iops_sec: '2000', iops_bytes: '500' } });

    const unset = await f.call('PUT', `${P}/qos-specs/${id}/delete_keys`, { body: { keys: ['iops_bytes'] } });
    expect([unset.status, unset.text]).toEqual([202, '']);
    expect((await f.call('GET', `${P}/qos-specs/${id}`)).json.qos_specs.specs).toEqual({ read_iops_sec: '2000' });
    // As Cinder: keys are removed in order up to the first one missing, which is a 404.
    expectFault(
      await f.call('PUT', `${P}/qos-specs/${id}/delete_keys`, { body: { keys: ['read_iops_sec', 'nope'] } }),
      404,
      'itemNotFound',
      `QoS spec ${id} has no spec with key nope.`,
    );
    expect((await f.call('GET', `${P}/qos-specs/${id}`)).json.qos_specs.specs).toEqual({});
  });

  it("refuses what Cinder refuses: a taken name, a bad consumer, a missing spec", async () => {
    await createQos({ name: 'limits' });
    expectFault(await f.call('POST', `${P}/qos-specs`, { body: { qos_specs: { name: 'limits' } } }), 409, 'conflictingRequest', 'QoS Specs limits already exists.');
    expectFault(await f.call('POST', `${P}/qos-specs`, { body: { qos_specs: { name: 'x', consumer: 'middle' } } }), 400, 'badRequest');
    expectFault(await f.call('POST', `${P}/qos-specs`, { body: { qos_specs: { consumer: 'both' } } }), 400, 'badRequest');
    expectFault(await f.call('GET', `${P}/qos-specs/${MISSING}`), 404, 'itemNotFound', `No such QoS spec ${MISSING}.`);
    expectFault(await f.call('PUT', `${P}/qos-specs/${MISSING}`, { body: { qos_specs: { a: '1' } } }), 404, 'itemNotFound');
    expectFault(await f.call('DELETE', `${P}/qos-specs/${MISSING}`), 404, 'itemNotFound');
  });

  it('associates volume types, lists and removes the associations; a type has one QoS specs at a time', async () => {
    const { qos_specs: qos } = await createQos({ name: 'limits' });
    const [a, b] = [await createType('a'), await createType('b')];
    for (const t of [a, b]) expect((await f.call('GET', `${P}/qos-specs/${qos.id}/associate?vol_type_id=${t}`)).status).toBe(202);
    const associations = async () => (await f.call('GET', `${P}/qos-specs/${qos.id}/associations`)).json.qos_associations;
    expect(await associations()).toEqual([
      { association_type: 'volume_type', id: a, name: 'a' },
      { association_type: 'volume_type', id: b, name: 'b' },
    ]);
    expect((await f.call('GET', `${P}/types/${a}`)).json.volume_type.qos_specs_id).toBe(qos.id);

    const { qos_specs: other } = await createQos({ name: 'other' });
    expectFault(
      await f.call('GET', `${P}/qos-specs/${other.id}/associate?vol_type_id=${a}`),
      400,
      'badRequest',
      `Invalid volume type: Type ${a} is already associated with another qos specs: ${qos.id}`,
    );
    expectFault(await f.call('GET', `${P}/qos-specs/${qos.id}/associate`), 400, 'badRequest', 'Volume Type id must not be None.');
    expectFault(await f.call('GET', `${P}/qos-specs/${qos.id}/associate?vol_type_id=${MISSING}`), 404, 'itemNotFound', `Volume type ${MISSING} could not be found.`);

    expect((await f.call('GET', `${P}/qos-specs/${qos.id}/disassociate?vol_type_id=${a}`)).status).toBe(202);
    expect((await associations()).map((x: { id: string }) => x.id)).toEqual([b]);
    expect((await f.call('GET', `${P}/qos-specs/${qos.id}/disassociate_all`)).status).toBe(202);
    expect(await associations()).toEqual([]);
    expect((await f.call('GET', `${P}/types/${b}`)).json.volume_type.qos_specs_id).toBeNull();
  });

  it('refuses to delete specs in use unless forced, and a forced delete disassociates them', async () => {
    const { qos_specs: qos } = await createQos({ name: 'limits' });
    const t = await createType('a');
    await f.call('GET', `${P}/qos-specs/${qos.id}/associate?vol_type_id=${t}`);
    expectFault(await f.call('DELETE', `${P}/qos-specs/${qos.id}?force=False`), 400, 'badRequest', 'Qos specs still in use.');
    expect((await f.call('DELETE', `${P}/qos-specs/${qos.id}?force=True`)).status).toBe(202);
    expectFault(await f.call('GET', `${P}/qos-specs/${qos.id}`), 404, 'itemNotFound');
    expect((await f.call('GET', `${P}/types/${t}`)).json.volume_type.qos_specs_id).toBeNull();
    // The name is free again.
    await createQos({ name: 'limits' });
  });
});
