/** Region catalogues used to reject a region or zone that does not belong to its provider. */
export const AWS_REGIONS: readonly string[] = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-south-1",
  "eu-south-2",
  "eu-north-1",
  "il-central-1",
  "me-south-1",
  "me-central-1",
  "mx-central-1",
  "sa-east-1",
];

export const GCP_REGIONS: readonly string[] = [
  "africa-south1",
  "asia-east1",
  "asia-east2",
  "asia-northeast1",
  "asia-northeast2",
  "asia-northeast3",
  "asia-south1",
  "asia-south2",
  "asia-southeast1",
  "asia-southeast2",
  "australia-southeast1",
  "australia-southeast2",
  "europe-central2",
  "europe-north1",
  "europe-north2",
  "europe-southwest1",
  "europe-west1",
  "europe-west2",
  "europe-west3",
  "europe-west4",
  "europe-west6",
  "europe-west8",
  "europe-west9",
  "europe-west10",
  "europe-west12",
  "me-central1",
  "me-central2",
  "me-west1",
  "northamerica-northeast1",
  "northamerica-northeast2",
  "northamerica-south1",
  "southamerica-east1",
  "southamerica-west1",
  "us-central1",
  "us-east1",
  "us-east4",
  "us-east5",
  "us-south1",
  "us-west1",
  "us-west2",
  "us-west3",
  "us-west4",
];

export type Provider = "aws" | "gcp";

export function regionsOf(provider: Provider): readonly string[] {
  return provider === "aws" ? AWS_REGIONS : GCP_REGIONS;
}

/** AWS zones are the region plus one letter (eu-west-1a); GCP zones are the region, a dash and one letter (europe-west3-a). */
export function isZoneOf(provider: Provider, region: string, zone: string): boolean {
  const suffix = zone.startsWith(region) ? zone.slice(region.length) : undefined;
  if (suffix === undefined) return false;
  return provider === "aws" ? /^[a-f]$/.test(suffix) : /^-[a-f]$/.test(suffix);
}

export function zonePattern(provider: Provider, region: string): string {
  return provider === "aws" ? `${region}a..${region}f` : `${region}-a..${region}-f`;
}

/** Regions in the EU/EEA, the default data-residency allow-list of the policy pack. */
export const EU_REGIONS: readonly string[] = [
  "eu-central-1",
  "eu-central-2",
  "eu-west-1",
  "eu-west-3",
  "eu-south-1",
  "eu-south-2",
  "eu-north-1",
  "europe-central2",
  "europe-north1",
  "europe-north2",
  "europe-southwest1",
  "europe-west1",
  "europe-west3",
  "europe-west4",
  "europe-west8",
  "europe-west9",
  "europe-west10",
  "europe-west12",
];
