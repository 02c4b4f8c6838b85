import * as z from 'zod';

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
export function drydockSchemas(advisory: boolean): Record<DrydockKind, z.ZodType> {
  const str = z.string();
  const num = z.number();
  const strList = z.array(z.string());
  const ipv4 = advisory ? z.ipv4() : z.string();
  const uri = advisory
    ? z.string().refine((v) => URL.canParse(v), { message: 'Invalid URI' })
    : z.string();
  const openMap = z.record(z.string(), z.unknown());
  const stringMap = z.record(z.string(), z.string());

  const labels = openMap;

  const filesystem = z.strictObject({
    mountpoint: str.optional(),
    fstype: str.optional(),
    mount_options: str.optional(),
    fs_uuid: str.optional(),
    fs_label: str.optional(),
  });
  const partition = z.strictObject({
    name: str.optional(),
    size: str.optional(),
    part_uuid: str.optional(),
    volume_group: str.optional(),
    labels: stringMap.optional(),
    bootable: z.boolean().optional(),
    filesystem: filesystem.optional(),
  });
  const storage = z.looseObject({
    physical_devices: z
      .record(
        z.string(),
        z.looseObject({
          labels: stringMap.optional(),
          volume_group: str.optional(),
          partitions: z.array(partition).optional(),
        }),
      )
      .optional(),
    volume_groups: z
      .record(
        z.string(),
        z.looseObject({
          vg_uuid: str.optional(),
          logical_volumes: z
            .array(
              z.looseObject({
                name: str.optional(),
                lv_uuid: str.optional(),
                size: str.optional(),
                // Unlike a partition's, this filesystem is open in Drydock's schema.
                filesystem: filesystem.loose().optional(),
              }),
            )
            .optional(),
        }),
      )
      .optional(),
  });
  const oob = z.looseObject({
    type: str.optional(),
    network: str.optional(),
    account: str.optional(),
    credential: str.optional(),
  });
  const platform = z.strictObject({
    image: str.optional(),
    kernel: str.optional(),
    kernel_params: openMap.optional(),
  });
  const hostMetadata = z.strictObject({
    tags: strList.optional(),
    owner_data: stringMap.optional(),
    rack: str.optional(),
    boot_mac: str.optional(),
  });
  const hostInterface = z.looseObject({
    device_link: str.optional(),
    slaves: strList.optional(),
    networks: strList.optional(),
  });
  const hostCommon = {
    oob: oob.optional(),
    storage: storage.optional(),
    platform: platform.optional(),
    metadata: hostMetadata.optional(),
    host_profile: str.optional(),
    hardware_profile: str.optional(),
    primary_network: str.optional(),
  };

  const repository = advisory
    ? z.strictObject({
        // Drydock's pattern is unanchored: any value containing apt or rpm matches it.
        repo_type: z.string().regex(/apt|rpm/),
        url: str,
        distributions: strList.optional(),
        subrepos: strList.optional(),
        components: strList.optional(),
        gpgkey: str.optional(),
        arches: strList,
        options: stringMap.optional(),
      })
    : z.unknown();

  return {
    Region: z.strictObject({
      tag_definitions: z
        .array(
          z.strictObject({
            tag: str.optional(),
            definition_type: z.enum(['lshw_xpath']).optional(),
            definition: str.optional(),
          }),
        )
        .optional(),
      authorized_keys: strList.optional(),
      repositories: z
        .object({ remove_unlisted: z.boolean().optional() })
        .catchall(repository)
        .optional(),
    }),
    Rack: z.strictObject({
      // Open object: switches are keyed by name; each entry's fields are checked as advice.
      tor_switches: z
        .looseObject({ mgmt_ip: ipv4.optional(), sdn_api_uri: uri.optional() })
        .superRefine((switches, ctx) => {
          if (!advisory) return;
          const entry = z.looseObject({
            mgmt_ip: z.ipv4().optional(),
            sdn_api_uri: uri.optional(),
          });
          for (const [name, value] of Object.entries(switches)) {
            if (name === 'mgmt_ip' || name === 'sdn_api_uri') continue;
            const r = entry.safeParse(value);
            for (const issue of r.error?.issues ?? []) {
              ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
            }
          }
        })
        .optional(),
      location: z.looseObject({ clli: str.optional(), grid: str.optional() }).optional(),
      local_networks: strList.optional(),
      labels: labels.optional(),
    }),
    NetworkLink: z.strictObject({
      bonding: z
        .strictObject({
          mode: str.optional(),
          hash: str.optional(),
          peer_rate: str.optional(),
          mon_rate: num.optional(),
          up_delay: num.optional(),
          down_delay: num.optional(),
        })
        .optional(),
      mtu: num.optional(),
      linkspeed: str.optional(),
      trunking: z
        .strictObject({ mode: str.optional(), default_network: str.optional() })
        .optional(),
      allowed_networks: strList.optional(),
      labels: labels.optional(),
    }),
    Network: z.strictObject({
      cidr: str.optional(),
      ranges: z
        .array(
          z.strictObject({ type: str.optional(), start: ipv4.optional(), end: ipv4.optional() }),
        )
        .optional(),
      dns: z.strictObject({ domain: str.optional(), servers: str.optional() }).optional(),
      dhcp_relay: z
        .strictObject({ self_ip: ipv4.optional(), upstream_target: ipv4.optional() })
        .optional(),
      mtu: num.optional(),
      vlan: str.optional(),
      routedomain: str.optional(),
      routes: z
        .array(
          z.strictObject({
            subnet: str.optional(),
            gateway: ipv4.optional(),
            metric: num.optional(),
            routedomain: str.optional(),
          }),
        )
        .optional(),
      labels: labels.optional(),
    }),
    HardwareProfile: z.strictObject({
      vendor: str.optional(),
      generation: str.optional(),
      hw_version: str.optional(),
      bios_version: str.optional(),
      boot_mode: z.enum(['bios', 'uefi']).optional(),
      bootstrap_protocol: z.enum(['pxe', 'usb', 'hdd']).optional(),
      pxe_interface: num.optional(),
      device_aliases: openMap.optional(),
      cpu_sets: stringMap.optional(),
      hugepages: z
        .record(
          z.string(),
          advisory
            ? z.looseObject({ size: str.optional(), count: num.optional() })
            : z.record(z.string(), z.unknown()),
        )
        .optional(),
    }),
    HostProfile: z.strictObject({
      ...hostCommon,
      interfaces: z
        .record(
          z.string(),
          hostInterface.extend({
            sriov: z
              .looseObject({ vf_count: num.optional(), trustmode: z.boolean().optional() })
              .optional(),
          }),
        )
        .optional(),
    }),
    BaremetalNode: z.strictObject({
      ...hostCommon,
      addressing: z
        .array(z.looseObject({ address: str.optional(), network: str.optional() }))
        .optional(),
      interfaces: z.record(z.string(), hostInterface).optional(),
    }),
    BootAction: z.strictObject({
      signaling: z.boolean().optional(),
      assets: z
        .array(
          z.strictObject({
            path: z.string().regex(/^\/.+/).optional(),
            location: str.optional(),
            type: z.enum(['unit', 'file', 'pkg_list']),
            data: z.union([str, z.record(z.string(), z.string().nullable())]).optional(),
            location_pipeline: z.array(z.enum(['template'])).optional(),
            data_pipeline: z
              .array(
                z.enum([
                  'base64_encode',
                  'template',
                  'base64_decode',
                  'utf8_encode',
                  'utf8_decode',
                ]),
              )
              .optional(),
            // Unanchored in Drydock's schema too: three digits anywhere.
            permissions: z.string().regex(/\d{3}/).optional(),
          }),
        )
        .optional(),
      node_filter: z
        .strictObject({
          filter_set_type: z.enum(['intersection', 'union']).optional(),
          filter_set: z
            .array(
              z.strictObject({
                filter_type: z.enum(['intersection', 'union']).optional(),
                node_names: strList.optional(),
                node_tags: strList.optional(),
                node_labels: openMap.optional(),
                rack_names: strList.optional(),
                rack_labels: openMap.optional(),
              }),
            )
            .optional(),
        })
        .optional(),
    }),
  };
}

/** Schemas whose violations are errors (what Drydock's validator enforces). */
export const DRYDOCK_SCHEMAS = drydockSchemas(false);
/** Schemas whose extra findings are warnings (see `drydockSchemas`). */
export const DRYDOCK_ADVISORY_SCHEMAS = drydockSchemas(true);
