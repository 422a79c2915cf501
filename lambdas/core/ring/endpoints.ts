import { PortabilityError } from '../errors';
import { BRANDS, REGION_PLACEHOLDER, REGIONS, type Brand, type BrandEndpoints, type Region } from '../settings';

/** A brand or region that the product does not know: a bug or bad data, never a URL. */
export class UnknownEndpointError extends PortabilityError {
  readonly name = 'UnknownEndpointError';
}

export interface RingEndpoints {
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** `<intake base>/<scopeId>` for the region: append `/data-queries…`. */
  readonly intakeUrl: string;
}

/**
 * Resolves Ring's URLs for a brand and region from the configured templates
 * (settings.endpoints: Ring's production hosts by default, the sandbox in tests).
 */
export function resolveEndpoints(endpoints: Record<Brand, BrandEndpoints>, brand: string, region: string, scopeId: string): RingEndpoints {
  if (!(BRANDS as readonly string[]).includes(brand)) throw new UnknownEndpointError(`unknown brand ${JSON.stringify(brand)}: expected one of ${BRANDS.join(', ')}`);
  if (!(REGIONS as readonly string[]).includes(region)) throw new UnknownEndpointError(`unknown region ${JSON.stringify(region)}: expected one of ${REGIONS.join(', ')}`);
  const { oauthBaseUrl, intakeBaseUrl } = endpoints[brand as Brand];
  return {
    authorizeUrl: `${oauthBaseUrl}/v2/authorize`,
    tokenUrl: `${oauthBaseUrl}/oauth/token`,
    intakeUrl: `${intakeBaseUrl.replaceAll(REGION_PLACEHOLDER, region as Region)}/${encodeURIComponent(scopeId)}`,
  };
}
