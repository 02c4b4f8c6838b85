import { describe, expect, it } from 'vitest';
import { isBlockedAddress } from '#shared/design-refs/address-guard.ts';
import {
  assertStorableDesignRef,
  parseDesignRef,
  redactDesignRef,
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
    ]) {
      expect(isBlockedAddress(ip), ip).toBe(false);
    }
  });
});
