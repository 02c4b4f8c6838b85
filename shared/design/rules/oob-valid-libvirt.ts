import { nodeRule, type Rule } from './rule.ts';

/** DD4002 (`oob_valid_libvirt.py`): a libvirt node has a `qemu+ssh` URI and a boot MAC. */
export const oobValidLibvirt: Rule = nodeRule(
  'DD4002',
  'Valid Libvirt Configuration',
  (node, f) => {
    if (node.oobType !== 'libvirt') return;
    const uri = node.oobParameters.libvirt_uri;
    if (!uri) {
      f.error(
        `OOB parameter libvirt_uri missing for node ${node.name}.`,
        [node.ref],
        'Provide libvirt URI to node hypervisor.',
      );
    } else if (!uri.startsWith('qemu+ssh')) {
      f.error(
        'OOB parameter libvirt_uri has invalid scheme.',
        [node.ref],
        "Only scheme 'qemu+ssh' is supported.",
      );
    }
    if (!node.bootMac) {
      f.error(
        'libvirt-based node requires defined boot MAC address.',
        [node.ref],
        "Specify the node's PXE MAC address in metadata.boot_mac",
      );
    }
  },
);
