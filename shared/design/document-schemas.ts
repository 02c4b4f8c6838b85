import * as z from '#shared/zod.ts';

/** The Drydock document kinds this service validates (Drydock's `v1_doc_handlers`). */
export const DRYDOCK_KINDS = [
  'Region',
  'Rack',
  'NetworkLink',
  'Network',
  'HardwareProfile',
  'HostProfile',
  'BaremetalNode',
  'BootAction',
] as const;
export type DrydockKind = (typeof DRYDOCK_KINDS)[number];

/** Whether a string names one of the validated kinds. */
export const isDrydockKind = (value: string): value is DrydockKind =>
  (DRYDOCK_KINDS as readonly string[]).includes(value);

/**
 * The `data` (Deckhand) / `spec` (legacy) schema of each kind, written from Drydock's
 * `drydock/<Kind>/v1` JSON Schemas (draft 4): `additionalProperties: false` becomes a strict
 * object, an open object a loose one, and nothing is required unless the JSON Schema says so.
 *
 * `advisory` adds what those schemas state but Drydock never enforced: string formats (its
 * validator ran without a format checker) and the repository and hugepage entries (their rules
 * sit under misspelt keywords, `additionalPropties` and `propertes`). The ingester reports
 * advisory findings as Warnings, so a design Drydock accepted is never rejected here.
 */
export function drydockSchemas(advisory: boolean): Record<DrydockKind, z.ZodMiniType> {
  const str = z.string();
  const num = z.number();
  const strList = z.array(z.string());
  const ipv4 = advisory ? z.ipv4() : z.string();
  const uri = advisory
    ? z.string().check(z.refine((v) => URL.canParse(v), { message: 'Invalid URI' }))
    : z.string();
  const openMap = z.record(z.string(), z.unknown());
  const stringMap = z.record(z.string(), z.string());

  const labels = openMap;

  const filesystem = z.strictObject({
    mountpoint: z.optional(str),
    fstype: z.optional(str),
    mount_options: z.optional(str),
    fs_uuid: z.optional(str),
    fs_label: z.optional(str),
  });
  const partition = z.strictObject({
    name: z.optional(str),
    size: z.optional(str),
    part_uuid: z.optional(str),
    volume_group: z.optional(str),
    labels: z.optional(stringMap),
    bootable: z.optional(z.boolean()),
    filesystem: z.optional(filesystem),
  });
  const storage = z.looseObject({
    physical_devices: z.optional(
      z.record(
        z.string(),
        z.looseObject({
          labels: z.optional(stringMap),
          volume_group: z.optional(str),
          partitions: z.optional(z.array(partition)),
        }),
      ),
    ),
    volume_groups: z.optional(
      z.record(
        z.string(),
        z.looseObject({
          vg_uuid: z.optional(str),
          logical_volumes: z.optional(
            z.array(
              z.looseObject({
                name: z.optional(str),
                lv_uuid: z.optional(str),
                size: z.optional(str),
                // Unlike a partition's, this filesystem is open in Drydock's schema.
                filesystem: z.optional(z.catchall(filesystem, z.unknown())),
              }),
            ),
          ),
        }),
      ),
    ),
  });
  const oob = z.looseObject({
    type: z.optional(str),
    network: z.optional(str),
    account: z.optional(str),
    credential: z.optional(str),
  });
  const platform = z.strictObject({
    image: z.optional(str),
    kernel: z.optional(str),
    kernel_params: z.optional(openMap),
  });
  const hostMetadata = z.strictObject({
    tags: z.optional(strList),
    owner_data: z.optional(stringMap),
    rack: z.optional(str),
    boot_mac: z.optional(str),
  });
  const hostInterface = z.looseObject({
    device_link: z.optional(str),
    slaves: z.optional(strList),
    networks: z.optional(strList),
  });
  const hostCommon = {
    oob: z.optional(oob),
    storage: z.optional(storage),
    platform: z.optional(platform),
    metadata: z.optional(hostMetadata),
    host_profile: z.optional(str),
    hardware_profile: z.optional(str),
    primary_network: z.optional(str),
  };

  const repository = advisory
    ? z.strictObject({
        // Drydock's pattern is unanchored: any value containing apt or rpm matches it.
        repo_type: z.string().check(z.regex(/apt|rpm/)),
        url: str,
        distributions: z.optional(strList),
        subrepos: z.optional(strList),
        components: z.optional(strList),
        gpgkey: z.optional(str),
        arches: strList,
        options: z.optional(stringMap),
      })
    : z.unknown();

  return {
    Region: z.strictObject({
      tag_definitions: z.optional(
        z.array(
          z.strictObject({
            tag: z.optional(str),
            definition_type: z.optional(z.enum(['lshw_xpath'])),
            definition: z.optional(str),
          }),
        ),
      ),
      authorized_keys: z.optional(strList),
      repositories: z.optional(
        z.catchall(z.object({ remove_unlisted: z.optional(z.boolean()) }), repository),
      ),
    }),
    Rack: z.strictObject({
      // Open object: switches are keyed by name; each entry's fields are checked as advice.
      tor_switches: z.optional(
        z.looseObject({ mgmt_ip: z.optional(ipv4), sdn_api_uri: z.optional(uri) }).check(
          z.superRefine((switches, ctx) => {
            if (!advisory) return;
            const entry = z.looseObject({
              mgmt_ip: z.optional(z.ipv4()),
              sdn_api_uri: z.optional(uri),
            });
            for (const [name, value] of Object.entries(switches)) {
              if (name === 'mgmt_ip' || name === 'sdn_api_uri') continue;
              const r = entry.safeParse(value);
              for (const issue of r.error?.issues ?? []) {
                ctx.addIssue({
                  code: 'custom',
                  path: [name, ...issue.path],
                  message: issue.message,
                });
              }
            }
          }),
        ),
      ),
      location: z.optional(z.looseObject({ clli: z.optional(str), grid: z.optional(str) })),
      local_networks: z.optional(strList),
      labels: z.optional(labels),
    }),
    NetworkLink: z.strictObject({
      bonding: z.optional(
        z.strictObject({
          mode: z.optional(str),
          hash: z.optional(str),
          peer_rate: z.optional(str),
          mon_rate: z.optional(num),
          up_delay: z.optional(num),
          down_delay: z.optional(num),
        }),
      ),
      mtu: z.optional(num),
      linkspeed: z.optional(str),
      trunking: z.optional(
        z.strictObject({ mode: z.optional(str), default_network: z.optional(str) }),
      ),
      allowed_networks: z.optional(strList),
      labels: z.optional(labels),
    }),
    Network: z.strictObject({
      cidr: z.optional(str),
      ranges: z.optional(
        z.array(
          z.strictObject({ type: z.optional(str), start: z.optional(ipv4), end: z.optional(ipv4) }),
        ),
      ),
      dns: z.optional(z.strictObject({ domain: z.optional(str), servers: z.optional(str) })),
      dhcp_relay: z.optional(
        z.strictObject({ self_ip: z.optional(ipv4), upstream_target: z.optional(ipv4) }),
      ),
      mtu: z.optional(num),
      vlan: z.optional(str),
      routedomain: z.optional(str),
      routes: z.optional(
        z.array(
          z.strictObject({
            subnet: z.optional(str),
            gateway: z.optional(ipv4),
            metric: z.optional(num),
            routedomain: z.optional(str),
          }),
        ),
      ),
      labels: z.optional(labels),
    }),
    HardwareProfile: z.strictObject({
      vendor: z.optional(str),
      generation: z.optional(str),
      hw_version: z.optional(str),
      bios_version: z.optional(str),
      boot_mode: z.optional(z.enum(['bios', 'uefi'])),
      bootstrap_protocol: z.optional(z.enum(['pxe', 'usb', 'hdd'])),
      pxe_interface: z.optional(num),
      device_aliases: z.optional(openMap),
      cpu_sets: z.optional(stringMap),
      hugepages: z.optional(
        z.record(
          z.string(),
          advisory
            ? z.looseObject({ size: z.optional(str), count: z.optional(num) })
            : z.record(z.string(), z.unknown()),
        ),
      ),
    }),
    HostProfile: z.strictObject({
      ...hostCommon,
      interfaces: z.optional(
        z.record(
          z.string(),
          z.extend(hostInterface, {
            sriov: z.optional(
              z.looseObject({ vf_count: z.optional(num), trustmode: z.optional(z.boolean()) }),
            ),
          }),
        ),
      ),
    }),
    BaremetalNode: z.strictObject({
      ...hostCommon,
      addressing: z.optional(
        z.array(z.looseObject({ address: z.optional(str), network: z.optional(str) })),
      ),
      interfaces: z.optional(z.record(z.string(), hostInterface)),
    }),
    BootAction: z.strictObject({
      signaling: z.optional(z.boolean()),
      assets: z.optional(
        z.array(
          z.strictObject({
            path: z.optional(z.string().check(z.regex(/^\/.+/))),
            location: z.optional(str),
            type: z.enum(['unit', 'file', 'pkg_list']),
            data: z.optional(z.union([str, z.record(z.string(), z.nullable(z.string()))])),
            location_pipeline: z.optional(z.array(z.enum(['template']))),
            data_pipeline: z.optional(
              z.array(
                z.enum([
                  'base64_encode',
                  'template',
                  'base64_decode',
                  'utf8_encode',
                  'utf8_decode',
                ]),
              ),
            ),
            // Unanchored in Drydock's schema too: three digits anywhere.
            permissions: z.optional(z.string().check(z.regex(/\d{3}/))),
          }),
        ),
      ),
      node_filter: z.optional(
        z.strictObject({
          filter_set_type: z.optional(z.enum(['intersection', 'union'])),
          filter_set: z.optional(
            z.array(
              z.strictObject({
                filter_type: z.optional(z.enum(['intersection', 'union'])),
                node_names: z.optional(strList),
                node_tags: z.optional(strList),
                node_labels: z.optional(openMap),
                rack_names: z.optional(strList),
                rack_labels: z.optional(openMap),
              }),
            ),
          ),
        }),
      ),
    }),
  };
}

/** Schemas whose violations are errors (what Drydock's validator enforces). */
export const DRYDOCK_SCHEMAS = drydockSchemas(false);
/** Schemas whose extra findings are warnings (see `drydockSchemas`). */
export const DRYDOCK_ADVISORY_SCHEMAS = drydockSchemas(true);
