import { findings, type Rule } from './rule.ts';

/** DD1008 (`hugepages_validity.py`): `hugepages` and `hugepagesz` kernel parameters go together. */
export const hugepagesValidity: Rule = {
  code: 'DD1008',
  name: 'Hugepages',
  check({ site }) {
    const f = findings();
    for (const node of site.nodes) {
      const count = Object.hasOwn(node.kernelParams, 'hugepages');
      const size = Object.hasOwn(node.kernelParams, 'hugepagesz');
      if (count !== size) {
        f.error(
          'Invalid hugepages kernel configuration',
          [node.ref],
          'hugepages and hugepagesz must be specified together',
        );
      }
    }
    return f.list;
  },
};
