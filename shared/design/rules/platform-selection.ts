import { findings, type Rule, type RuleContext } from './rule.ts';

const SETTINGS = 'DESIGN_PLATFORM_IMAGES and DESIGN_PLATFORM_KERNELS';

/**
 * DD3001 (`platform_selection.py`): each node's image and kernel are ones the provisioner offers.
 * Drydock asked MAAS; this service has no provisioner, so the allowed lists come from
 * configuration, and a list that is not configured is reported as not checked (an Info, never a
 * silent pass, and without "Validation successful.").
 */
export const platformSelection: Rule = {
  code: 'DD3001',
  name: 'Platform Selection',
  check({ site, platform }) {
    const f = findings();
    const { images, kernels } = platform;
    if (images === null) {
      f.info(
        `Platform Validation: no allowed images are configured, image${kernels === null ? ' and kernel' : ''} selections not validated.`,
        [],
        `Set ${SETTINGS} to the images and kernels the node provisioner (MAAS) offers.`,
      );
    } else if (kernels === null) {
      f.info(
        'Platform Validation: no allowed kernels are configured, kernel selections not validated.',
        [],
        `Set ${SETTINGS} to the images and kernels the node provisioner (MAAS) offers.`,
      );
    }
    for (const node of site.nodes) {
      if (images !== null && !(node.image !== null && images.includes(node.image))) {
        f.error(
          `Platform Validation: invalid image ${node.image ?? 'None'}`,
          [node.ref],
          `Select a valid image from: ${images.join(',')}`,
        );
        continue;
      }
      if (kernels !== null && !(node.kernel !== null && kernels.includes(node.kernel))) {
        f.error(
          `Platform Validation: invalid kernel ${node.kernel ?? 'None'}`,
          [node.ref],
          `Select a valid kernel from: ${kernels.join(',')}`,
        );
      }
    }
    return f.list;
  },
  confirms: ({ platform }: RuleContext) => platform.images !== null && platform.kernels !== null,
};
