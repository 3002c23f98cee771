// The architecture, written down once: which folder may import which. Checked by
// test/architecture/layers.test.ts (so by `npm test` and .ci/run) and by `npm run check:layers`.
//
//   machines <- engine <- manager <- api / ui / observability / compute agent <- service
//
// A folder may import the folders listed against it (and itself, node built-ins and packages);
// anything else is a violation. Below the line are the lower layers the upper ones share: the
// HTTP toolkit, the database client, drivers, the compute client, Nova's wire contract.
const layers = {
  // The statecharts: pure, no I/O, nothing of ours below them.
  'machines': [],
  'src/lib': [],
  'src/contracts': [],
  'src/generated': [],
  'src/db': ['src/generated', 'src/lib'],
  'src/config.ts': ['src/db', 'machines'],
  'src/qemu': ['src/lib'],
  'src/share-fs': ['src/lib'],
  // What every HTTP surface uses (faults, body, validation, request context, auth, policy).
  'src/http': ['src/lib', 'src/config.ts'],
  'src/drivers': ['machines', 'src/qemu', 'src/share-fs', 'src/contracts', 'src/lib'],
  // The compute client (Nova's API); the embedded agent is a surface of its own, below.
  'src/compute/(?!agent/)': ['src/contracts', 'src/lib', 'machines'],
  'src/engine': ['machines', 'src/db', 'src/drivers', 'src/compute/(?!agent/)', 'src/lib'],
  'src/manager': ['machines', 'src/engine', 'src/db', 'src/drivers', 'src/lib'],
  // The surfaces: each sits on the manager/engine and the HTTP toolkit, never on another surface.
  'src/api': ['machines', 'src/manager', 'src/engine', 'src/db', 'src/http', 'src/contracts', 'src/lib', 'src/config.ts'],
  'src/ui': ['machines', 'src/manager', 'src/engine', 'src/db', 'src/http', 'src/lib'],
  'src/observability': ['machines', 'src/engine', 'src/db', 'src/http', 'src/lib'],
  'src/compute/agent': ['src/http', 'src/contracts', 'src/qemu', 'src/share-fs', 'src/compute/(?!agent/)', 'src/lib', 'src/config.ts'],
  // Assembly: the only places that see everything.
  'src/service.ts': ['.'],
  'src/main.ts': ['src/service.ts', 'src/config.ts', 'src/lib'],
  'src/cli': ['src/config.ts', 'src/db'],
};

const anchor = (p) => (p === '.' ? '^(src|machines)/' : `^${p.replace(/\./g, '\\.')}${p.endsWith('.ts') || p.endsWith('/)') ? '' : '/'}`);

module.exports = {

  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import loop means two modules are one job split badly.', from: {}, to: { circular: true } },
    {
      name: 'production-imports-no-tests',
      severity: 'error',
      from: { path: '^(src|machines)/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  allowedSeverity: 'error',
  allowed: [
    // Built-ins and packages are anyone's.
    { from: {}, to: { dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'] } },
    // Tests, scripts, benchmarks and the Prisma setup sit above everything.
    { from: { path: '^(test|scripts|bench|prisma)/|\\.test\\.ts$|^[^/]+$' }, to: {} },
    // Within one folder, anything goes (one level of the tree is one job).
    ...Object.keys(layers).map((from) => ({ from: { path: anchor(from) }, to: { path: anchor(from) } })),
    ...Object.entries(layers)
      .filter(([, to]) => to.length > 0)
      .map(([from, to]) => ({ from: { path: anchor(from) }, to: { path: to.map(anchor).join('|') } })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
