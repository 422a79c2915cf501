import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import { parseCertificates } from '../../../../lambdas/core/notifications/certificate-chain';
import { AMAZON_ROOTS_SOURCE, amazonRootsPem } from '../../../../lambdas/core/notifications/trust/amazon-roots';
import { AMAZON_ROOTS, fingerprint, renderAmazonRoots } from '../../../../scripts/amazon-roots';

describe("the shipped trust anchors: Amazon's root CAs", () => {
  it('are exactly the five roots Amazon Trust Services publishes, by SHA-256 fingerprint', () => {
    const shipped = parseCertificates(amazonRootsPem());
    expect(shipped.map(fingerprint)).toEqual(AMAZON_ROOTS.map((root) => root.sha256));
    expect(shipped.map((certificate) => certificate.subject.split('\n').pop())).toEqual(AMAZON_ROOTS.map((root) => `CN=${root.name}`));
    expect(shipped.every((certificate) => certificate.ca && certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey))).toBe(true);
  });

  it("are byte for byte the copies in Node's root store (npm run trust:amazon-roots regenerates the file)", () => {
    expect(readFileSync(path.join(__dirname, '..', '..', '..', '..', AMAZON_ROOTS_SOURCE), 'utf8')).toBe(renderAmazonRoots());
    const store = new Set(rootCertificates.map((pem) => new X509Certificate(pem).raw.toString('base64')));
    expect(parseCertificates(amazonRootsPem()).every((certificate) => store.has(certificate.raw.toString('base64')))).toBe(true);
  });
});
