import { nodeRule, type Rule } from './rule.ts';

/** DD1008 (`hugepages_validity.py`): `hugepages` and `hugepagesz` kernel parameters go together. */
export const hugepagesValidity: Rule = nodeRule('DD1008', 'Hugepages', (node, f) => {
  const count = Object.hasOwn(node.kernelParams, 'hugepages');
  const size = Object.hasOwn(node.kernelParams, 'hugepagesz');
  if (count !== size) {
    f.error(
      'Invalid hugepages kernel configuration',
      [node.ref],
      'hugepages and hugepagesz must be specified together',
    );
  }
});
