// Volume types, their extra specs, access list and encryption spec, and QoS specs: Cinder's admin
// resources around volumes, with Cinder's refusals word for word (cinder/api/contrib/types_*.py,
// volume_type_access.py, volume_type_encryption.py, qos_specs_manage.py, cinder/exception.py).
import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import { DEFAULT_VOLUME_TYPE_ID, type EncryptionFields, type TypeViewer, type VolumeTypeRow } from '../engine/store/index.js';
import { Conflict, InvalidRequest, NotFound } from './errors.js';

export type { TypeViewer } from '../engine/store/index.js';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const typeNotFound = (id: string) => new NotFound(`Volume type ${id} could not be found.`);
const qosNotFound = (id: string) => new NotFound(`No such QoS spec ${id}.`);

export class VolumeTypes {
  constructor(private readonly engine: Engine) {}

  private get store() {
    return this.engine.store;
  }

  private now() {
    return this.engine.clock();
  }

  /** A live type the viewer may see (admins: any), or Cinder's 404. */
  async get(id: string, viewer?: TypeViewer): Promise<VolumeTypeRow> {
    const t = await this.store.volumeTypes.find(id, viewer);
    if (!t) throw typeNotFound(id);
    return t;
  }

  /** GET /types/default: the deployment's default type. */
  defaultType = () => this.get(DEFAULT_VOLUME_TYPE_ID);

  /**
   * A type named by id or by name, as Cinder's get_by_name_or_id: a UUID is tried as an id, then
   * as a name (a type may be named like a UUID); anything else is a name.
   */
  async byNameOrId(identity: string, viewer: TypeViewer): Promise<VolumeTypeRow> {
    if (UUID.test(identity)) {
      const t = (await this.store.volumeTypes.find(identity, viewer)) ?? (await this.store.volumeTypes.findByName(identity, viewer));
      if (!t) throw typeNotFound(identity);
      return t;
    }
    const t = await this.store.volumeTypes.findByName(identity, viewer);
    if (!t) throw new NotFound(`Volume type with name ${identity} could not be found.`);
    return t;
  }

  list = (viewer: TypeViewer, isPublic: boolean | null) => this.store.volumeTypes.list({ viewer, isPublic });

  async create(input: { name: string; description: string | null; isPublic: boolean; extraSpecs: Record<string, string> }) {
    const created = await this.store.volumeTypes.create({ id: randomUUID(), ...input });
    if (created === 'exists') throw new Conflict(`Volume Type ${input.name} already exists.`);
    return created;
  }

  async update(id: string, fields: { name?: string; description?: string | null; isPublic?: boolean }) {
    const updated = await this.store.volumeTypes.update(id, fields);
    if (updated === 'not_found') throw typeNotFound(id);
    if (updated === 'exists') throw new Conflict(`Volume Type ${fields.name} already exists.`);
    return updated;
  }

  async delete(id: string) {
    switch (await this.store.volumeTypes.delete(id, this.now())) {
      case 'not_found':
        throw typeNotFound(id);
      case 'in_use':
        throw new InvalidRequest('Target volume type is still in use.');
      case 'default':
        throw new InvalidRequest(`The volume type ${id} is a default volume type and cannot be deleted.`);
      case 'deleted':
        return;
    }
  }

  // Extra specs. Changes are refused while a volume has the type (Cinder's _allow_update).
  private async assertUnused(id: string) {
    if (await this.store.volumeTypes.inUse(id)) throw new InvalidRequest('Volume Type is currently in use.');
  }

  async extraSpecs(id: string) {
    return (await this.get(id)).extraSpecs;
  }

  async extraSpec(id: string, key: string) {
    const specs = await this.extraSpecs(id);
    if (!Object.hasOwn(specs, key)) throw new NotFound(`Volume Type ${id} has no extra specs with key ${key}.`);
    return specs[key]!;
  }

  async setExtraSpecs(id: string, specs: Record<string, string>) {
    await this.assertUnused(id);
    if (!(await this.store.volumeTypes.setExtraSpecs(id, specs))) throw typeNotFound(id);
    return specs;
  }

  async deleteExtraSpec(id: string, key: string) {
    await this.get(id);
    await this.assertUnused(id);
    if (!(await this.store.volumeTypes.deleteExtraSpec(id, key, this.now()))) {
      throw new NotFound(`Volume Type ${id} has no extra specs with key ${key}.`);
    }
  }

  // Access to private types.
  async projects(id: string) {
    const t = await this.get(id);
    if (t.isPublic) throw new NotFound('Access list not available for public volume types.');
    return this.store.volumeTypes.projects(id);
  }

  async addProject(id: string, projectId: string) {
    await this.get(id);
    if ((await this.store.volumeTypes.addProject(id, projectId)) === 'exists') {
      throw new Conflict(`Volume type access for ${id} / ${projectId} combination already exists.`);
    }
  }

  async removeProject(id: string, projectId: string) {
    await this.get(id);
    if (!(await this.store.volumeTypes.removeProject(id, projectId, this.now()))) {
      throw new NotFound(`Volume type access not found for ${id} / ${projectId} combination.`);
    }
  }

  // Encryption. Refused while a volume has the type: its volumes' keys follow from the spec.
  async encryption(id: string) {
    await this.get(id);
    return this.store.volumeTypes.encryption(id);
  }

  async createEncryption(id: string, fields: Required<EncryptionFields>) {
    if (await this.store.volumeTypes.inUse(id)) throw new InvalidRequest('Cannot create encryption specs. Volume type in use.');
    await this.get(id);
    const created = await this.store.volumeTypes.createEncryption(id, randomUUID(), fields);
    if (created === 'exists') throw new InvalidRequest(`Volume type encryption for type ${id} already exists.`);
    return created;
  }

  async updateEncryption(id: string, fields: EncryptionFields) {
    await this.get(id);
    if (await this.store.volumeTypes.inUse(id)) throw new InvalidRequest('Cannot update encryption specs. Volume type in use.');
    if (!(await this.store.volumeTypes.updateEncryption(id, fields))) throw new NotFound(`Volume type encryption for type ${id} does not exist.`);
  }

  async deleteEncryption(id: string) {
    if (await this.store.volumeTypes.inUse(id)) throw new InvalidRequest('Cannot delete encryption specs. Volume type in use.');
    await this.get(id);
    if (!(await this.store.volumeTypes.deleteEncryption(id, this.now()))) throw new NotFound(`Volume type encryption for type ${id} does not exist.`);
  }

  // QoS specs.
  async qos(id: string) {
    const q = await this.store.qosSpecs.find(id);
    if (!q) throw qosNotFound(id);
    return q;
  }

  listQos = () => this.store.qosSpecs.list();

  async createQos(input: { name: string; consumer: string; specs: Record<string, string> }) {
    const created = await this.store.qosSpecs.create({ id: randomUUID(), ...input });
    if (created === 'exists') throw new Conflict(`QoS Specs ${input.name} already exists.`);
    return created;
  }

  async setQosKeys(id: string, specs: Record<string, string>) {
    const { consumer, ...keys } = specs;
    if (!(await this.store.qosSpecs.setKeys(id, keys, consumer))) throw qosNotFound(id);
  }

  async deleteQosKeys(id: string, keys: readonly string[]) {
    await this.qos(id);
    const missing = await this.store.qosSpecs.deleteKeys(id, keys, this.now());
    if (missing !== null) throw new NotFound(`QoS spec ${id} has no spec with key ${missing}.`);
  }

  async deleteQos(id: string, force: boolean) {
    const r = await this.store.qosSpecs.delete(id, force, this.now());
    if (r === 'not_found') throw qosNotFound(id);
    if (r === 'in_use') throw new InvalidRequest('Qos specs still in use.');
  }

  async qosAssociations(id: string) {
    await this.qos(id);
    return this.store.qosSpecs.associations(id);
  }

  async associateQos(id: string, volumeTypeId: string) {
    await this.qos(id);
    const r = await this.store.qosSpecs.associate(id, volumeTypeId);
    if (r.kind === 'type_not_found') throw typeNotFound(volumeTypeId);
    if (r.kind === 'other') {
      throw new InvalidRequest(`Invalid volume type: Type ${volumeTypeId} is already associated with another qos specs: ${r.qosSpecsId}`);
    }
  }

  async disassociateQos(id: string, volumeTypeId: string) {
    await this.qos(id);
    if (!(await this.store.qosSpecs.disassociate(id, volumeTypeId))) throw typeNotFound(volumeTypeId);
  }

  async disassociateAllQos(id: string) {
    await this.qos(id);
    await this.store.qosSpecs.disassociateAll(id);
  }
}
