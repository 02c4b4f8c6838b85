import { findings, type Rule } from './rule.ts';

/** DD4001 Bootaction Definition (`bootaction_validity.py`): every node is some boot action's target. */
export const bootactionDefined: Rule = {
  code: 'DD4001',
  name: 'Bootaction Definition',
  check({ site }) {
    const f = findings();
    const targeted = new Set(site.bootActions.flatMap((ba) => ba.targetNodes));
    for (const node of site.nodes) {
      if (!targeted.has(node.name)) {
        f.warn(
          `Node ${node.name} is not in scope for any bootactions.`,
          [node.ref],
          'It is expected all nodes have at least one post-deploy action.',
        );
      }
    }
    return f.list;
  },
};

// Debian versions: an optional epoch, the upstream version and a revision.
const VERSION = /^(\d+:)?([a-zA-Z0-9.+~-]+)(-[a-zA-Z0-9.+~]+)$/;

/**
 * DD4002 Bootaction pkg_list Validation (`bootaction_validity.py`): a `pkg_list` asset has a
 * location or inline packages, each with an empty version or a Debian one. Inline lists whose
 * keys or versions are not strings are reported here (Drydock failed the document as DD000).
 */
export const bootactionPackageListValid: Rule = {
  code: 'DD4002',
  name: 'Bootaction pkg_list Validation',
  check({ site }) {
    const f = findings();
    for (const ba of site.bootActions) {
      for (const asset of ba.assets) {
        if (asset.type !== 'pkg_list') continue;
        if (asset.packageListProblem !== null) {
          f.error(
            asset.packageListProblem,
            [ba.ref],
            'pkg_list bootaction assets must specify a list of packages.',
          );
        } else if (
          !asset.location &&
          (asset.packageList === null || Object.keys(asset.packageList).length === 0)
        ) {
          f.error(
            "Bootaction has asset of type 'pkg_list' but no valid package data",
            [ba.ref],
            'pkg_list bootaction assets must specify a list of packages.',
          );
        } else {
          for (const version of Object.values(asset.packageList ?? {})) {
            if (version && !VERSION.test(version)) {
              f.error(
                `Version specifier ${version} is not a valid format.`,
                [ba.ref],
                'pkg_list version specifications must be in a valid format.',
              );
            }
          }
        }
      }
    }
    return f.list;
  },
};
