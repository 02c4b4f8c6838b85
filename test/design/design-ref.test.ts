import { describe, expect, it } from 'vitest';
import {
  blockedReason,
  createAllowHosts,
  isBlockedAddress,
  parseAllowEntry,
} from '#shared/design-refs/address-guard.ts';
import {
  assertStorableDesignRef,
  parseDesignRef,
  redactDesignRef,
  redactUrl,
  withoutUserinfo,
} from '#shared/design-refs/design-ref.ts';
import { ValidationError } from '#shared/errors.ts';

const thrown = (fn: () => unknown): ValidationError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
};

describe('parseDesignRef', () => {
  it('accepts every supported scheme and strips the <service>+ prefix for the transport', () => {
    const cases = [
      ['file:///srv/designs/site.yaml', 'file', 'file:'],
      ['http://designs.example/site.yaml', 'http', 'http:'],
      ['https://designs.example/site.yaml?rev=3', 'https', 'https:'],
      [
        'deckhand+http://deckhand:9000/api/v1.0/revisions/1/rendered-documents',
        'deckhand+http',
        'http:',
      ],
      [
        'deckhand+https://deckhand/api/v1.0/revisions/1/rendered-documents',
        'deckhand+https',
        'https:',
      ],
      ['promenade+http://promenade:8080/api/v1.0/config', 'promenade+http', 'http:'],
      ['promenade+https://promenade/api/v1.0/config', 'promenade+https', 'https:'],
      ['s3://site-designs/lab/site.yaml', 's3', 's3:'],
    ] as const;
    for (const [ref, scheme, protocol] of cases) {
      const parsed = parseDesignRef(ref);
      expect(parsed.scheme).toBe(scheme);
      expect(parsed.url.protocol).toBe(protocol);
      // Query values are redacted (they may be presigned-URL signatures or tokens).
      expect(parsed.redacted).toBe(ref.replace('rev=3', 'rev=redacted'));
    }
  });

  it('shows references without userinfo, fragment or query values', () => {
    const shown = parseDesignRef(
      'deckhand+https://u:p@deckhand/api/v1.0/x?token=abc&X-Amz-Signature=s1g&bare#frag',
    ).redacted;
    expect(shown).toBe(
      'deckhand+https://deckhand/api/v1.0/x?token=redacted&X-Amz-Signature=redacted&redacted',
    );
    const refused = thrown(() => parseDesignRef('file:///srv/site.yaml?token=abc'));
    expect(refused.message).not.toContain('abc');
    expect(thrown(() => parseDesignRef('file:///srv/site%00.yaml')).message).toContain('%00');
  });

  it('rejects unknown schemes, naming the supported ones', () => {
    const e = thrown(() => parseDesignRef('ftp://designs.example/site.yaml'));
    expect(e.message).toContain("unsupported design reference scheme 'ftp'");
    expect(e.message).toContain('deckhand+https');
    expect(e.issues[0]?.path).toBe('design_ref');
  });

  it('rejects malformed references', () => {
    for (const bad of [
      '',
      'site.yaml',
      '/srv/site.yaml',
      'http://',
      'http://exa mple/site.yaml',
      'https://[::1/site.yaml',
      'file://relative/site.yaml', // Drydock read host "relative", path "/site.yaml"
      'file:///srv/designs/',
      's3://bucket-only',
      's3://bucket/',
      `https://designs.example/${'a'.repeat(3000)}`,
    ]) {
      expect(() => parseDesignRef(bad), bad).toThrow(ValidationError);
    }
  });

  it('redacts credentials and fragments', () => {
    const parsed = parseDesignRef('https://alice:s3cr3t@designs.example/site.yaml#token=abc');
    expect(parsed.hasCredentials).toBe(true);
    expect(parsed.redacted).toBe('https://designs.example/site.yaml');
    expect(redactDesignRef('deckhand+https://u:p@deckhand/r')).toBe('deckhand+https://deckhand/r');
    expect(redactDesignRef('https://u:p@exa mple')).toBe('<invalid design reference>');
  });

  it('requests without userinfo and fragment, and shows without query values too', () => {
    const url = new URL('https://u:p@keystone.example:5000/v3/auth?token=t&x#f');
    expect(withoutUserinfo(url).href).toBe('https://keystone.example:5000/v3/auth?token=t&x');
    expect(redactUrl(url)).toBe('https://keystone.example:5000/v3/auth?token=redacted&redacted');
    expect(url.password).toBe('p');
  });

  it('never echoes credentials of a reference it rejects', () => {
    const e = thrown(() => parseDesignRef('file://alice:s3cr3t@host/x'));
    expect(JSON.stringify({ m: e.message, i: e.issues })).not.toContain('s3cr3t');
    const e2 = thrown(() => parseDesignRef('s3://alice:s3cr3t@bucket/key'));
    expect(e2.message).not.toContain('s3cr3t');
  });
});

describe('assertStorableDesignRef', () => {
  it('accepts a reference without credentials', () => {
    expect(assertStorableDesignRef('deckhand+https://deckhand/api/v1.0/revisions/7').scheme).toBe(
      'deckhand+https',
    );
  });

  it('refuses embedded credentials with a 400 pointing at the per-host setting', () => {
    const e = thrown(() =>
      assertStorableDesignRef('https://alice:s3cr3t@designs.example/site.yaml'),
    );
    expect(e.status).toBe(400);
    expect(e.message).toContain('DESIGN_HTTP_CREDENTIALS_SECRET_ARN');
    expect(e.message).toContain('https://designs.example/site.yaml');
    expect(JSON.stringify({ m: e.message, i: e.issues })).not.toMatch(/alice|s3cr3t/);
    expect(() => assertStorableDesignRef('https://token@designs.example/x')).toThrow(
      /embeds credentials/,
    );
  });

  it('still rejects bad syntax and unknown schemes', () => {
    expect(() => assertStorableDesignRef('gopher://x/y')).toThrow(/unsupported/);
  });
});

describe('isBlockedAddress', () => {
  it('blocks loopback, private, link-local, unique-local, unspecified and mapped addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '127.8.9.10',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '169.254.170.2',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '::ffff:10.0.0.1',
      '::127.0.0.1',
      'not-an-ip',
    ]) {
      expect(isBlockedAddress(ip), ip).toBe(true);
    }
  });

  it('allows public addresses', () => {
    for (const ip of [
      '93.184.216.34',
      '8.8.8.8',
      '172.32.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '2001:4860:4860::8888',
      '2003::1',
    ]) {
      expect(isBlockedAddress(ip), ip).toBe(false);
    }
  });

  it('refuses IPv6 transition forms whole, naming the IPv4 address they carry', () => {
    // [address, what the refusal names]; each form is a way to reach an IPv4 host through a
    // relay or translator, so none is a place a design source lives.
    const cases: [string, string][] = [
      ['::ffff:0:7f00:1', 'carrying 127.0.0.1'], // IPv4-translated (SIIT), ::ffff:0:0:0/96
      ['::ffff:0:a9fe:a9fe', 'carrying 169.254.169.254'],
      ['::ffff:0:808:808', 'carrying 8.8.8.8'],
      ['2002:7f00:1::', 'carrying 127.0.0.1'], // 6to4, 2002::/16
      ['2002:a9fe:a9fe::1', 'carrying 169.254.169.254'],
      ['2002:808:808::', 'carrying 8.8.8.8'],
      ['64:ff9b:1::7f00:1', 'carrying 127.0.0.1'], // NAT64 local use, 64:ff9b:1::/48
      ['64:ff9b:1:ffff::1', 'transition address'],
      ['64:ff9b::a9fe:a9fe', 'carrying 169.254.169.254'], // NAT64 well-known, 64:ff9b::/96
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'carrying 127.0.0.1'], // Teredo, bits inverted
      ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'carrying 8.8.8.8'],
      ['100::1', 'IPv6 address'], // discard-only, 100::/64
      ['100::ffff:ffff:ffff:ffff', 'IPv6 address'],
      ['fec0::1', 'IPv6 address'], // site-local, fec0::/10
      ['feff:ffff::1', 'IPv6 address'],
    ];
    for (const [ip, named] of cases) {
      expect(blockedReason(ip), ip).toContain(named);
    }
    // Just outside each range.
    for (const ip of ['2003::1', '64:ff9b:2::1', '2001:1::1', '100:0:0:1::1', 'fe7f::1']) {
      expect(blockedReason(ip), ip).toBeUndefined();
    }
  });
});

describe('DESIGN_ALLOW_HOSTS entries', () => {
  it('parse as host, host:port, [ipv6], [ipv6]:port or a bare IPv6 address', () => {
    expect(parseAllowEntry('Deckhand.UCP.svc.')).toEqual({
      host: 'deckhand.ucp.svc',
      port: undefined,
    });
    expect(parseAllowEntry('10.0.0.5:9000')).toEqual({ host: '10.0.0.5', port: '9000' });
    expect(parseAllowEntry('[fd00::5]:8443')).toEqual({ host: 'fd00::5', port: '8443' });
    expect(parseAllowEntry('[::1]')).toEqual({ host: '::1', port: undefined });
    expect(parseAllowEntry('fd00::5')).toEqual({ host: 'fd00::5', port: undefined });
    for (const bad of ['h:0', 'h:65536', 'h:x', 'a b', '[::1', 'h:1:2']) {
      expect(() => parseAllowEntry(bad), bad).toThrow(/DESIGN_ALLOW_HOSTS/);
    }
  });

  it('exempt the named port, or only the default port of the scheme for a bare host', () => {
    const allow = createAllowHosts(['127.0.0.1', 'deckhand:9000', '[::1]']);
    expect(allow.permits('127.0.0.1', '', 'http:')).toBe(true);
    expect(allow.permits('127.0.0.1', '80', 'http:')).toBe(true);
    expect(allow.permits('127.0.0.1', '', 'https:')).toBe(true);
    expect(allow.permits('127.0.0.1', '443', 'http:')).toBe(false);
    // The Lambda runtime API: allowing the host must not allow this port.
    expect(allow.permits('127.0.0.1', '9001', 'http:')).toBe(false);
    expect(allow.permits('DECKHAND', '9000', 'https:')).toBe(true);
    expect(allow.permits('deckhand', '', 'https:')).toBe(false);
    expect(allow.permits('[::1]', '', 'http:')).toBe(true);
    expect(allow.permits('::1', '8080', 'http:')).toBe(false);
    expect(allow.permits('localhost', '', 'http:')).toBe(false);
  });
});
